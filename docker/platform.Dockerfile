# MindLens platform image: Airflow 3.3 (every component, CeleryExecutor-ready), training
# (torch CPU, transformers, papermill notebooks), the MLflow client and tracking server, the
# `mindlens` CLI. One image, one role per container (docker-compose.yml picks the command).
#
#   docker build -f docker/platform.Dockerfile -t mindlens-platform \
#       --build-context torch-wheels=/folder/with/torch-cpu-wheel .
#
# torch: `pip install torch==2.13.0` from PyPI is the multi-GB CUDA build. Give the build a
# folder holding the CPU wheel as the build context `torch-wheels` (it becomes pip's
# --find-links; podman: the same flag). Without it the build uses the stage below (empty) and
# pip takes what the index offers; --build-arg PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
# is the other way to the CPU build.
ARG BASE=debian:bookworm-slim

# --- the default for --build-context torch-wheels: no extra wheels
FROM ${BASE} AS torch-wheels


# --- Python 3.11 with an empty venv and the unprivileged user (shared with api.Dockerfile)
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
    && python3 deps.py pyproject.toml airflow > extra.txt

# --- the image
FROM python
ARG PIP_CERT=""
ARG PIP_EXTRA_INDEX_URL=""
# Dependencies first (the `airflow` extra, which includes `train` and `serve`): this layer is
# rebuilt only when their requirements or pins change, not for a code change.
COPY --from=deps /tmp/deps/constraints.txt /tmp/deps/extra.txt /tmp/deps/
RUN --mount=type=bind,from=torch-wheels,target=/wheels \
    PIP_CERT=$PIP_CERT PIP_EXTRA_INDEX_URL=$PIP_EXTRA_INDEX_URL \
       pip install --no-cache-dir --find-links /wheels -c /tmp/deps/constraints.txt -r /tmp/deps/extra.txt \
    && python3 -c "import torch, sys; sys.exit(0 if torch.version.cuda is None else 'torch is a CUDA build: give the build the CPU wheel (see the header)')" \
    && rm -rf /tmp/deps
COPY --from=wheel /wheel /tmp/wheel
RUN pip install --no-cache-dir --no-deps /tmp/wheel/*.whl && rm -rf /tmp/wheel

ENV GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false \
    MINDLENS_STATE_DIR=/var/lib/mindlens MINDLENS_DATA_DIR=/data \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/venv/lib/python3.11/site-packages/mindlens/_resources/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/venv/lib/python3.11/site-packages/mindlens/_resources/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False
WORKDIR /app
COPY models ./models
COPY docker/entrypoint.sh /usr/local/bin/mindlens-entrypoint
# Mount points of compose's named volumes, owned by the user (a new volume takes them over).
RUN mkdir -p /var/lib/mindlens /data /opt/airflow/logs /mlflow/artifacts \
    && chown -R mindlens:mindlens /var/lib/mindlens /data /opt/airflow /mlflow /app

USER mindlens
ENV MINDLENS_BOOTSTRAP=0
ENTRYPOINT ["mindlens-entrypoint"]
CMD ["mindlens", "--help"]
