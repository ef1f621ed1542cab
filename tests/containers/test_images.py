"""The two images, built from this checkout and run for real.

Inference image: serves the shipped champion from its own registry (``/readyz``, a real
``POST /analyze``), as the unprivileged user, with a working HEALTHCHECK, and without torch,
transformers or Airflow installed. Platform image: the CLI answers, every DAG in the
wheel's copy parses, torch is the CPU build, and the pipeline's data stages run
(fetch, prepare on a small sample, validate); test_compose.py runs the whole DAG."""

from __future__ import annotations

import json
import os
import uuid

import httpx
import pytest
from conftest import free_port, wait_for_http

from containers.engine import image_size_mb, run

pytestmark = [pytest.mark.containers, pytest.mark.slow]

TEXT = "They will destroy everything we love. Only a fool would believe them! Everyone knows it."
NOT_INSTALLED = "import importlib.util as u, json; print(json.dumps([m for m in ('torch', 'transformers', 'airflow') if u.find_spec(m)]))"


def test_inference_image_serves_the_shipped_champion_as_non_root(engine: list[str], api_image: str) -> None:
    image = json.loads(run([*engine, "image", "inspect", api_image]).stdout)[0]
    assert image["Config"]["User"] == "mindlens"
    healthcheck = image.get("Healthcheck") or image["Config"]["Healthcheck"]  # podman | docker
    assert "/healthz" in " ".join(healthcheck["Test"])
    print(f"\n{api_image}: {image_size_mb(engine, api_image):.0f} MB")

    port, name = free_port(), f"mindlens-test-api-{uuid.uuid4().hex[:8]}"
    # Host networking (the wrapper's `run`), so the API binds loopback on a free port.
    run(
        [*engine, "run", "-d", "--name", name, "-e", f"MINDLENS_SERVING__PORT={port}",
         "-e", "MINDLENS_SERVING__HOST=127.0.0.1", api_image]
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/readyz", timeout=120)
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
        response = httpx.post(f"{base}/analyze", json={"text": TEXT, "min_confidence": 0.1}, timeout=60)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model"]["name"] == "mindlens-analyzer" and body["model"]["version"] == "3"  # V2.1
        assert any(sentence["techniques"] for sentence in body["sentences"])

        assert run([*engine, "exec", name, "id", "-u"]).stdout.strip() == "10001"
        assert json.loads(run([*engine, "exec", name, "python3", "-c", NOT_INSTALLED]).stdout) == []
        assert run([*engine, "healthcheck", "run", name], check=False).returncode == 0
    finally:
        logs = run([*engine, "logs", "--tail", "30", name], check=False)
        run([*engine, "rm", "-f", "-t", "5", name], check=False)
        print(logs.stdout[-2000:] + logs.stderr[-2000:])


DAGBAG = (
    "import json, os; from airflow.dag_processing.dagbag import DagBag; "
    "bag = DagBag(os.environ['AIRFLOW__CORE__DAGS_FOLDER']); "
    "print('DAGBAG', json.dumps({'dags': sorted(bag.dags), 'errors': {str(k): str(v) for k, v in bag.import_errors.items()}}))"
)
STACK = "import json, torch, papermill, mlflow, airflow, celery; print('STACK', json.dumps([torch.__version__, torch.version.cuda]))"


def test_platform_image_parses_the_dags_and_runs_the_data_stages(
    engine: list[str], platform_image: str
) -> None:
    print(f"\n{platform_image}: {image_size_mb(engine, platform_image):.0f} MB")
    assert "pipeline" in run([*engine, "run", "--rm", platform_image, "mindlens", "--help"]).stdout
    data = os.environ.get("MINDLENS_DATA_DIR", "")
    if not os.path.isdir(os.path.join(data, "ptc-semeval2020-task11")):
        pytest.skip("PTC data not found: set MINDLENS_DATA_DIR (mounted read-only into the container)")
    # The wheel's DAGs import in the image; the training stack is the CPU build; the
    # pipeline's data stages (fetch: the mounted copy is checked, prepare on 8 documents per
    # source and split, the data tests) run as the DAG's first tasks would. The whole DAG
    # runs on the Celery workers in test_compose.py.
    script = (
        f'set -e; python3 -c "{DAGBAG}" 2>/dev/null | grep ^DAGBAG; python3 -c "{STACK}" | grep ^STACK;'
        " mindlens data fetch && mindlens data prepare --max-documents 8 && mindlens data validate"
    )
    result = run(
        [*engine, "run", "--rm", "-v", f"{os.path.abspath(data)}:/data:ro", "--entrypoint", "sh", platform_image, "-c", script],
        timeout=300,
    )  # fmt: skip
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith(("DAGBAG ", "STACK "))}  # fmt: skip
    bag = json.loads(lines["DAGBAG"])
    assert bag["errors"] == {}
    assert {"mindlens_pipeline", "mindlens_retrain", "mindlens_batch_score"} <= set(bag["dags"])
    version, cuda = json.loads(lines["STACK"])
    assert version.startswith("2.13.0") and cuda is None  # torch's CPU build
    assert result.returncode == 0
