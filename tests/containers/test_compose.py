"""The compose stack, started for real: ``podman-compose -f docker-compose.yml -f
docker-compose.local.yml up -d`` (local equivalents of the public images; Grafana left
out), two Celery workers (``--scale airflow-worker=2``). It waits for every UI, triggers
``mindlens_pipeline`` through the Airflow REST API (8 documents per source and split, two
TF-IDF candidates mapped over the workers) and waits for the run's success, checks that the
run registered a new version on the MLflow server, and analyses a text through the API
container. ``down -v`` removes containers, network and volumes even when a step fails."""

from __future__ import annotations

import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import ROOT, data_dir, free_port, needs_ptc

from containers.engine import podman_compose, run

pytestmark = [pytest.mark.containers, pytest.mark.slow, needs_ptc]

LOCAL_SERVICES = ("postgres", "redis", "prometheus", "label-studio")
CANDIDATES = [
    {"name": "tfidf", "family": "tfidf"},
    {"name": "tfidf-heuristics", "family": "tfidf", "params": {"use_signals": True}},
]
UP_TIMEOUT_S = 900  # init registers three releases; on 2 busy cores the stack takes minutes
RUN_TIMEOUT_S = 900


def _wait(
    url: str, timeout: float, ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200
) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=5)
            if ok(response):
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as err:
            last = repr(err)
        time.sleep(3)
    raise AssertionError(f"{url} not ready after {timeout:.0f} s: {last}")


@pytest.fixture(scope="module")
def compose() -> list[str]:
    """podman-compose (checked before any image is built)."""
    found = podman_compose()
    if found is None:
        pytest.skip("podman-compose not installed (pip install podman-compose==1.6.0)")
    return found


@pytest.fixture(scope="module")
def stack(
    compose: list[str],
    engine: list[str],
    build: Callable[..., str],
    api_image: str,
    platform_image: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    for target in LOCAL_SERVICES:
        build("docker/local/services.Dockerfile", f"mindlens-local-{target}", "--target", target)

    folder = tmp_path_factory.mktemp("compose")
    datasets = folder / "datasets"  # a copy: the stack may write where the shared folder is read-only
    shutil.copytree(data_dir(), datasets, ignore=shutil.ignore_patterns("*.zip", "*.tar.gz"))
    from cryptography.fernet import Fernet

    ports = {
        name: str(free_port())
        for name in (
            "MINDLENS_API_PORT",
            "AIRFLOW_PORT",
            "MLFLOW_PORT",
            "LABEL_STUDIO_PORT",
            "PROMETHEUS_PORT",
        )
    }
    env = {
        "POSTGRES_PASSWORD": secrets.token_hex(12),
        "REDIS_PASSWORD": secrets.token_hex(12),
        "AIRFLOW_ADMIN_PASSWORD": secrets.token_hex(12),
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW_JWT_SECRET": secrets.token_hex(32),
        "MINDLENS_ADMIN_TOKEN": secrets.token_hex(16),
        "LABEL_STUDIO_USERNAME": "admin@example.com",
        "LABEL_STUDIO_PASSWORD": secrets.token_hex(12),
        "LABEL_STUDIO_TOKEN": secrets.token_hex(20),
        "GRAFANA_ADMIN_PASSWORD": secrets.token_hex(12),
        "MINDLENS_TAG": api_image.rsplit(":", 1)[1],
        "MINDLENS_DATASETS": str(datasets),
        **ports,
    }
    env_file = folder / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    project = f"mindlens-test-{uuid.uuid4().hex[:6]}"
    base = [*compose, "-p", project, "--env-file", str(env_file), "-f", "docker-compose.yml", "-f", "docker-compose.local.yml"]  # fmt: skip
    started = time.monotonic()
    try:
        run([*base, "up", "-d", "--no-build", "--scale", "airflow-worker=2"], cwd=ROOT, timeout=UP_TIMEOUT_S)
        urls = {
            "api": f"http://127.0.0.1:{ports['MINDLENS_API_PORT']}",
            "airflow": f"http://127.0.0.1:{ports['AIRFLOW_PORT']}",
            "mlflow": f"http://127.0.0.1:{ports['MLFLOW_PORT']}",
            "label_studio": f"http://127.0.0.1:{ports['LABEL_STUDIO_PORT']}",
            "prometheus": f"http://127.0.0.1:{ports['PROMETHEUS_PORT']}",
        }
        deadline = started + UP_TIMEOUT_S
        for probe in ("mlflow:/health", "airflow:/api/v2/monitor/health", "api:/readyz",
                      "label_studio:/health", "prometheus:/-/healthy"):  # fmt: skip
            name, path = probe.split(":", 1)
            _wait(urls[name] + path, max(deadline - time.monotonic(), 5))
        print(f"\nstack up in {time.monotonic() - started:.0f} s")
        yield urls | {
            "admin_password": env["AIRFLOW_ADMIN_PASSWORD"],
            "admin_token": env["MINDLENS_ADMIN_TOKEN"],
        }
    except BaseException:
        logs = run([*base, "logs", "--tail", "40"], cwd=ROOT, check=False, timeout=120)
        print((logs.stdout + logs.stderr)[-15000:])
        raise
    finally:
        down = run([*base, "down", "-v", "-t", "10"], cwd=ROOT, check=False, timeout=300)
        # What `down` can leave behind (a container restarting at that moment): remove it all.
        run([*engine, "pod", "rm", "-f", "--ignore", f"pod_{project}"], check=False)
        leftovers = run(
            [*engine, "ps", "-a", "--filter", f"label=io.podman.compose.project={project}", "-q"], check=False
        ).stdout.split()
        if leftovers:
            run([*engine, "rm", "-f", *leftovers], check=False)
        volumes = run([*engine, "volume", "ls", "-q"], check=False).stdout.split()
        mine = [v for v in volumes if v.startswith(f"{project}_")]
        if mine:
            run([*engine, "volume", "rm", "-f", *mine], check=False)
        networks = [n for n in run([*engine, "network", "ls", "--format", "{{.Name}}"], check=False).stdout.split() if n.startswith(project)]  # fmt: skip
        if networks:
            run([*engine, "network", "rm", "-f", *networks], check=False)
        print(
            f"down in {time.monotonic() - started:.0f} s since start (rc {down.returncode}); leftovers: {leftovers, mine, networks}"
        )


def test_stack_runs_the_pipeline_on_celery_workers_and_serves(stack: dict[str, str]) -> None:
    airflow = httpx.Client(base_url=stack["airflow"], timeout=30)
    token = airflow.post("/auth/token", json={"username": "admin", "password": stack["admin_password"]})
    assert token.status_code in (200, 201), token.text
    airflow.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    deadline = time.monotonic() + 180  # the dag-processor parses the DAG files first
    while airflow.get("/api/v2/dags/mindlens_pipeline").status_code != 200:
        assert time.monotonic() < deadline, "mindlens_pipeline never appeared in the Airflow API"
        time.sleep(3)
    assert airflow.patch("/api/v2/dags/mindlens_pipeline", json={"is_paused": False}).status_code == 200
    started = time.monotonic()
    created = airflow.post(
        "/api/v2/dags/mindlens_pipeline/dagRuns",
        json={"logical_date": None, "conf": {"max_documents": 8, "candidates": CANDIDATES}},
    )
    assert created.status_code == 200, created.text
    run_id = created.json()["dag_run_id"]
    state = "queued"
    while state not in ("success", "failed") and time.monotonic() - started < RUN_TIMEOUT_S:
        time.sleep(5)
        state = airflow.get(f"/api/v2/dags/mindlens_pipeline/dagRuns/{run_id}").json()["state"]
    tasks = airflow.get(f"/api/v2/dags/mindlens_pipeline/dagRuns/{run_id}/taskInstances").json()[
        "task_instances"
    ]
    summary = {f"{t['task_id']}[{t['map_index']}]": (t["state"], t.get("hostname")) for t in tasks}
    print(f"\npipeline {state} in {time.monotonic() - started:.0f} s: {summary}")
    if state != "success":
        logs = {}
        for t in tasks:
            if t["state"] not in ("success", "skipped"):
                url = f"/api/v2/dags/mindlens_pipeline/dagRuns/{run_id}/taskInstances/{t['task_id']}/logs/{max(t['try_number'], 1)}"
                logs[t["task_id"]] = airflow.get(url, params={"map_index": t["map_index"]}).text[-3000:]
        raise AssertionError(f"pipeline {state}: {summary}\n{logs}")
    assert {"train", "evaluate", "register", "reload_api"} <= {t["task_id"] for t in tasks}
    assert all(t["hostname"] for t in tasks)  # every task ran on a Celery worker

    # The run's winner is a new registered version on the MLflow server (the champion stays
    # the shipped V2.1 unless the winner beats it: a TF-IDF model on 8 documents does not).
    versions = httpx.get(
        f"{stack['mlflow']}/api/2.0/mlflow/model-versions/search",
        params={"filter": "name='mindlens-analyzer'"},
        timeout=30,
    ).json()["model_versions"]
    assert len(versions) >= 4, [v["version"] for v in versions]

    api = httpx.Client(base_url=stack["api"], timeout=60)
    assert api.get("/readyz").json()["status"] == "ready"
    body = api.post(
        "/analyze", json={"text": "Only a fool would believe them! They will destroy us all."}
    ).json()
    assert body["model"]["name"] == "mindlens-analyzer" and body["sentences"], body
