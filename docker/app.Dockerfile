# MindLens application image: API + demo, Airflow, MLflow CLI (one image, several roles).
# Build: docker build -f docker/app.Dockerfile -t mindlens-app .
# Torch: pass a folder of CPU wheels with --build-arg PIP_FIND_LINKS=... to avoid the CUDA build.
ARG BASE=debian:bookworm-slim
FROM ${BASE}

ARG PIP_CERT=""
ARG PIP_FIND_LINKS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    MINDLENS_STATE_DIR=/var/lib/mindlens MINDLENS_DATA_DIR=/data \
    PATH=/opt/venv/bin:$PATH

RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv \
    && useradd --create-home --uid 10001 mindlens \
    && mkdir -p /var/lib/mindlens /data && chown mindlens /var/lib/mindlens

WORKDIR /app
COPY requirements.txt pyproject.toml setup.py MANIFEST.in README.md ./
COPY src ./src
COPY demo ./demo
RUN PIP_CERT=$PIP_CERT PIP_FIND_LINKS=$PIP_FIND_LINKS pip install --no-cache-dir -r requirements.txt
COPY configs ./configs
COPY dags ./dags
COPY plugins ./plugins
COPY notebooks ./notebooks
COPY models ./models

USER mindlens
EXPOSE 8000
HEALTHCHECK CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["mindlens", "serve", "--host", "0.0.0.0", "--port", "8000"]
