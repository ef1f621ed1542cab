"""``make platform`` for real: ``mindlens platform up`` starts Airflow's api-server, scheduler,
dag-processor, triggerer and two Celery workers (Redis broker, PostgreSQL metadata and result
backend) and an MLflow server on PostgreSQL, each a process of its own on loopback.

``mindlens_pipeline`` triggered through the REST API must succeed with its mapped ``train``
tasks spread over BOTH workers (the task instances' ``hostname``), and register its winner
in the MLflow server, whose store is the PostgreSQL database; the hourly DAGs
(``mindlens_label_sync`` without Label Studio, ``mindlens_monitoring``) must succeed on the
same workers, and so must ``mindlens_batch_score`` (its chunks mapped over the workers, a
Parquet with its manifest and the corpus report written). SIGTERM to the launcher must stop every process it started. Throwaway
databases and an empty Redis db number; all dropped, also on failure. With
``MINDLENS_UPDATE_SCREENSHOT=1`` the UI screenshots go to ``docs/`` (else a temp folder).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_servers import QUICK_PIPELINE_CONF, airflow_process_env, airflow_screenshots
from conftest import CHROMIUM, ROOT, free_port, needs_ptc

from mindlens.airflow_local import AirflowClient, group_alive

pytestmark = [needs_ptc, pytest.mark.slow]

PIPELINE = "mindlens_pipeline"
HOURLY = ("mindlens_label_sync", "mindlens_monitoring")
BATCH = "mindlens_batch_score"
REDIS = os.environ.get("MINDLENS_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_db() -> Iterator[str]:
    """The URL of an empty Redis db number (other sessions may use db 0), flushed afterwards."""
    import redis

    try:
        free = [
            n for n in range(1, 16) if redis.Redis.from_url(f"{REDIS}/{n}", socket_timeout=3).dbsize() == 0
        ]
    except redis.exceptions.RedisError as err:
        pytest.skip(f"Redis not reachable at {REDIS} (set MINDLENS_TEST_REDIS_URL): {err}")
    if not free:
        pytest.skip(f"no empty Redis db number at {REDIS}")
    url = f"{REDIS}/{random.choice(free)}"
    try:
        yield url
    finally:
        redis.Redis.from_url(url).flushdb()


def _stop_launcher(launcher: subprocess.Popen, pids_file: Path) -> dict[str, int]:
    """SIGTERM the launcher as Ctrl-C or a service manager would; what it started, by name."""
    started = json.loads(pids_file.read_text()) if pids_file.is_file() else {}
    if launcher.poll() is None:
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    for pid in started.values():  # a failed shutdown must not leave servers behind
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if launcher.poll() is None:
        launcher.kill()
    return started


def test_pipeline_on_two_celery_workers_with_mlflow_on_postgres(tmp_path: Path, redis_db: str) -> None:
    from pg import temporary_database

    started_at = time.monotonic()
    with (
        temporary_database("mindlens_airflow") as airflow_db,
        temporary_database("mindlens_mlflow") as mlflow_db,
    ):
        state = tmp_path / "state"
        airflow_port, mlflow_port = free_port(), free_port()
        env = airflow_process_env(state, airflow_port) | {
            "MINDLENS_PLATFORM_AIRFLOW_DB": airflow_db,
            "MINDLENS_PLATFORM_MLFLOW_DB": mlflow_db,
            "MINDLENS_PLATFORM_BROKER_URL": redis_db,
            "MINDLENS_PLATFORM_AIRFLOW_PORT": str(airflow_port),
            "MINDLENS_PLATFORM_MLFLOW_PORT": str(mlflow_port),
        }
        log_path = tmp_path / "launcher.log"
        with open(log_path, "w") as log:
            launcher = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mindlens.cli",
                    "platform",
                    "up",
                    "--workers",
                    "2",
                    "--concurrency",
                    "2",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{airflow_port}"
        pids_file = state / "platform" / "pids.json"
        try:
            try:
                with AirflowClient(base) as api:
                    api.wait_healthy(timeout_s=240)
                    up_s = time.monotonic() - started_at
                    run_id = api.trigger(PIPELINE, QUICK_PIPELINE_CONF)
                    run = api.wait_run(PIPELINE, run_id, timeout_s=600)
                    tasks = api.task_instances(PIPELINE, run_id)
                    pipeline_s = time.monotonic() - started_at - up_s
                    # Both hourly DAGs at once, as their schedule would have them.
                    hourly = {dag: api.trigger(dag) for dag in HOURLY}
                    hourly_runs = {dag: api.wait_run(dag, rid, timeout_s=300) for dag, rid in hourly.items()}
                    hourly_tasks = {dag: api.task_instances(dag, rid) for dag, rid in hourly.items()}
                    # A corpus scored in chunks by the champion the pipeline just registered.
                    batch_out = tmp_path / "batch"
                    batch_conf = {
                        "input_path": str(_ptc_articles()),
                        "output_dir": str(batch_out),
                        "chunk_size": 3,
                        "max_documents": 9,
                    }
                    batch_id = api.trigger(BATCH, batch_conf)
                    batch_run = api.wait_run(BATCH, batch_id, timeout_s=600)
                    batch_tasks = api.task_instances(BATCH, batch_id)
            except (TimeoutError, RuntimeError):
                print(log_path.read_text(errors="replace")[-4000:])
                for name in ("scheduler", "worker-1", "worker-2"):
                    worker_log = state / "platform" / "logs" / f"{name}.log"
                    if worker_log.is_file():
                        print(f"--- {name}\n" + worker_log.read_text(errors="replace")[-3000:])
                raise

            states = {(t["task_id"], t["map_index"]): t["state"] for t in tasks}
            assert run["state"] == "success", states
            trains = [t for t in tasks if t["task_id"] == "train"]
            assert len(trains) == 2
            assert {t["hostname"] for t in trains} == {"worker-1", "worker-2"}, trains
            assert {t["hostname"] for t in tasks if t["state"] == "success"} <= {"worker-1", "worker-2"}

            for dag, finished in hourly_runs.items():
                dag_states = {t["task_id"]: t["state"] for t in hourly_tasks[dag]}
                assert finished["state"] == "success", (dag, dag_states)
            # Without Label Studio the sync succeeds and does nothing (no retrain, no pipeline).
            sync = {t["task_id"]: t["state"] for t in hourly_tasks["mindlens_label_sync"]}
            assert sync["pull_annotations"] == "success" and sync["trigger_pipeline"] == "skipped", sync
            monitoring = {t["task_id"]: t["state"] for t in hourly_tasks["mindlens_monitoring"]}
            assert monitoring["drift_report"] == "success", monitoring

            batch_states = {(t["task_id"], t["map_index"]): t["state"] for t in batch_tasks}
            assert batch_run["state"] == "success", batch_states
            chunks = [t for t in batch_tasks if t["task_id"] == "score"]
            assert len(chunks) == 3 and {t["hostname"] for t in chunks} <= {"worker-1", "worker-2"}
            manifest = json.loads((batch_out / "manifest.json").read_text())
            assert manifest["counts"]["documents"] == 9 and manifest["input"]["documents"] == 9
            assert (batch_out / "report.html").stat().st_size > 10_000
            assert (batch_out / "results.parquet").is_file()

            _assert_winner_in_mlflow_on_postgres(f"http://127.0.0.1:{mlflow_port}", mlflow_db, state)

            if Path(CHROMIUM).is_file():
                update = os.environ.get("MINDLENS_UPDATE_SCREENSHOT") == "1"
                shots = airflow_screenshots(base, PIPELINE, run_id, ROOT / "docs" if update else tmp_path)
                assert all(path.stat().st_size > 20_000 for path in shots.values()), shots
            else:
                print(f"no Chromium at {CHROMIUM}: no UI screenshots")
        finally:
            stop_started = time.monotonic()
            started = _stop_launcher(launcher, pids_file)
            stop_s = time.monotonic() - stop_started

        # Clean shutdown: the launcher exited by itself and took every process with it.
        assert launcher.returncode == 0, log_path.read_text(errors="replace")[-3000:]
        assert set(started) == {
            "mlflow",
            "api-server",
            "scheduler",
            "dag-processor",
            "triggerer",
            "worker-1",
            "worker-2",
        }
        assert not pids_file.exists()
        assert [name for name, pid in started.items() if group_alive(pid)] == []
        print(
            f"platform up {up_s:.0f} s, pipeline {pipeline_s:.0f} s, stopped in {stop_s:.0f} s, "
            f"test {time.monotonic() - started_at:.0f} s"
        )


def _ptc_articles() -> Path:
    from mindlens.config import Settings

    return Settings().data_dir / "ptc-semeval2020-task11" / "datasets" / "train-articles"


def _assert_winner_in_mlflow_on_postgres(mlflow_url: str, mlflow_db: str, state: Path) -> None:
    """The champion is registered through the MLflow server, and the server keeps it in the
    PostgreSQL database (not a file store beside it); its artifacts are in the local folder."""
    from mlflow import MlflowClient
    from sqlalchemy import create_engine, text

    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    champion = client.get_model_version_by_alias("mindlens-analyzer", "champion")
    run = client.get_run(champion.run_id)
    assert run.info.status == "FINISHED"
    engine = create_engine(mlflow_db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT name, version FROM registered_model_aliases WHERE alias = 'champion'")
            ).all()
    finally:
        engine.dispose()
    assert [(name, str(version)) for name, version in rows] == [("mindlens-analyzer", str(champion.version))]
    assert run.info.artifact_uri.startswith((state / "platform" / "mlartifacts").as_uri()), (
        run.info.artifact_uri
    )
