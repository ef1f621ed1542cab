# MindLens inference image: the API with the Gradio demo at /demo, served with ONNX Runtime.
# No torch, transformers or Airflow (the `serve` extra); the shipped releases (models/v1, v2,
# v2.1) are inside and registered at build time, the newest as champion.
#
#   docker build -f docker/api.Dockerfile -t mindlens-api .
#   docker run --rm -p 127.0.0.1:8000:8000 mindlens-api        # http://127.0.0.1:8000/demo
#
# Another registry: MINDLENS_MLFLOW__TRACKING_URI=http://mlflow:5000 (the entrypoint registers
# the shipped releases there when they are missing; MINDLENS_BOOTSTRAP=0 skips that).
# Behind a TLS-inspecting proxy: --build-arg PIP_CERT=/path/to/ca.crt (mounted into the build).
# Podman keeps HEALTHCHECK only with --format docker.
ARG BASE=debian:bookworm-slim

# --- Python 3.11 with an empty venv and the unprivileged user (shared with platform.Dockerfile)
FROM ${BASE} AS python
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv \
    && useradd --create-home --uid 10001 --user-group mindlens

# --- the MindLens wheel (with its run-time resources in mindlens/_resources, setup.py)
FROM python AS wheel
ARG PIP_CERT=""
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY src ./src
COPY demo ./demo
COPY configs ./configs
COPY notebooks ./notebooks
COPY dags ./dags
COPY plugins ./plugins
COPY label_studio ./label_studio
COPY data/curated ./data/curated
RUN PIP_CERT=$PIP_CERT pip wheel --no-cache-dir --no-deps --wheel-dir /wheel .

# --- the extra's requirements and the lock's pins (requirements.txt without `-e .`)
FROM python AS deps
COPY requirements.txt pyproject.toml docker/deps.py /tmp/deps/
RUN cd /tmp/deps \
    && grep -v '^-e' requirements.txt > constraints.txt \
    && python3 deps.py pyproject.toml serve > extra.txt

# --- the image
FROM python
ARG PIP_CERT=""
# Dependencies first: this layer is rebuilt only when the `serve` extra's requirements or
# their pins change (not for a code change, nor for other edits to pyproject.toml).
COPY --from=deps /tmp/deps/constraints.txt /tmp/deps/extra.txt /tmp/deps/
RUN PIP_CERT=$PIP_CERT pip install --no-cache-dir -c /tmp/deps/constraints.txt -r /tmp/deps/extra.txt \
    && rm -rf /tmp/deps
COPY --from=wheel /wheel /tmp/wheel
RUN pip install --no-cache-dir --no-deps /tmp/wheel/*.whl && rm -rf /tmp/wheel

ENV GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false \
    MINDLENS_STATE_DIR=/var/lib/mindlens MINDLENS_DATA_DIR=/data \
    MINDLENS_SERVING__HOST=0.0.0.0 MINDLENS_SERVING__PORT=8000
# The installed package resolves relative paths (models/v1 ...) against the working directory.
WORKDIR /app
COPY models ./models
COPY docker/entrypoint.sh /usr/local/bin/mindlens-entrypoint
RUN mkdir -p /var/lib/mindlens /data /mlflow/artifacts \
    && mindlens registry bootstrap \
    && chown -R mindlens:mindlens /var/lib/mindlens /data /mlflow

USER mindlens
EXPOSE 8000
VOLUME /var/lib/mindlens
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['MINDLENS_SERVING__PORT'], timeout=4)"]
ENTRYPOINT ["mindlens-entrypoint"]
CMD ["mindlens", "serve"]
