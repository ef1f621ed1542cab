"""Batch scoring throughput of ``mindlens_batch_score`` on the Celery topology
(``make platform``) with one and with two Celery workers, on the same corpus and champion.

    python benchmarks/batch_workers.py [--docs 60] [--chunk-size 10] [--workers 1 2]
        [--model models/v2.1] [--out benchmarks/results/batch_workers.json]

For each worker count it starts the whole topology (``mindlens.airflow_local.Platform``: the
launcher ``mindlens platform up`` runs) on throwaway PostgreSQL databases and an empty Redis
db number, registers the shipped release as champion in its MLflow server, triggers the DAG
through the REST API on the first ``--docs`` PTC training articles in chunks of
``--chunk-size`` (one mapped ``score`` task each; every worker has one slot, so the worker
count is the parallelism), waits, stops everything and drops the databases.

Reported: documents/s over the scoring span (first ``score`` start to last ``score`` end)
and over the whole run (plan, scoring, merge and the corpus report), and which worker
scored which chunks. Connection defaults as in ``make platform`` (``MINDLENS_PLATFORM_*``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import socket
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from mindlens.airflow_local import (
    PLATFORM_ENV_DEFAULTS,
    AirflowClient,
    Platform,
    PlatformConfig,
    PlatformError,
)
from mindlens.config import PROJECT_ROOT, Settings

DAG = "mindlens_batch_score"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _empty_redis_db(server: str) -> str:
    """An empty db number of the Redis server (others may use db 0)."""
    import redis

    for number in range(15, 0, -1):
        if redis.Redis.from_url(f"{server}/{number}", socket_timeout=3).dbsize() == 0:
            return f"{server}/{number}"
    raise PlatformError(f"no empty Redis db number at {server}")


def _database(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def measure(
    workers: int, corpus: Path, docs: int, chunk_size: int, model: Path, scratch: Path
) -> dict[str, Any]:
    """One topology with ``workers`` one-slot workers: the batch run's figures."""
    from mindlens.registry import bootstrap_releases

    server = (
        os.environ.get("MINDLENS_PLATFORM_AIRFLOW_DB")
        or PLATFORM_ENV_DEFAULTS["MINDLENS_PLATFORM_AIRFLOW_DB"]
    )
    tag = uuid.uuid4().hex[:8]
    redis_server = (os.environ.get("MINDLENS_PLATFORM_BROKER_URL") or "redis://127.0.0.1:6379/0").rsplit(
        "/", 1
    )[0]
    config = PlatformConfig.from_env(
        airflow_db=_database(server, f"mindlens_bench_{tag}_airflow"),
        mlflow_db=_database(server, f"mindlens_bench_{tag}_mlflow"),
        broker_url=_empty_redis_db(redis_server),
        airflow_port=_free_port(),
        mlflow_port=_free_port(),
        workers=workers,
        concurrency=1,
    )
    os.environ["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(_free_port())
    state = scratch / f"state-{workers}"
    settings = Settings(state_dir=state)
    out_dir = scratch / f"scored-{workers}"
    started = time.monotonic()
    try:
        with Platform(
            settings, config, say=lambda line: print(f"[{workers} worker(s)] {line}", flush=True)
        ) as plat:
            plat.start()
            plat.wait_ready()
            up_s = time.monotonic() - started
            served = Settings(
                state_dir=state,
                mlflow={
                    "tracking_uri": config.mlflow_url,
                    "artifact_root": str(state / "platform" / "mlartifacts"),
                },
            )
            champion = bootstrap_releases(served, [model])
            conf = {
                "input_path": str(corpus),
                "output_dir": str(out_dir),
                "chunk_size": chunk_size,
                "max_documents": docs,
            }
            with AirflowClient(config.airflow_url) as api:
                run_id = api.trigger(DAG, conf)
                run = api.wait_run(DAG, run_id, timeout_s=1800)
                tasks = api.task_instances(DAG, run_id)
            if run["state"] != "success":
                raise PlatformError(
                    f"{DAG} ended {run['state']}: {[(t['task_id'], t['state']) for t in tasks]}"
                )
    finally:
        import redis

        redis.Redis.from_url(config.broker_url).flushdb()
        for url in (config.airflow_db, config.mlflow_db):
            _drop(url)
    scores = [t for t in tasks if t["task_id"] == "score"]
    span = _seconds(min(t["start_date"] for t in scores), max(t["end_date"] for t in scores))
    manifest = json.loads((out_dir / "manifest.json").read_text())
    per_worker: dict[str, int] = {}
    for t in scores:
        per_worker[t["hostname"]] = per_worker.get(t["hostname"], 0) + 1
    return {
        "workers": workers,
        "slots_per_worker": 1,
        "documents": docs,
        "chunks": len(scores),
        "chunks_per_worker": per_worker,
        "champion": champion.get("champion_semver"),
        "platform_up_s": round(up_s, 1),
        "scoring_span_s": round(span, 1),
        "run_s": round(_seconds(run["start_date"], run["end_date"]), 1),
        "docs_per_s_scoring": round(docs / span, 3),
        "docs_per_s_run": round(docs / _seconds(run["start_date"], run["end_date"]), 3),
        "chunk_task_s": sorted(round(t["duration"], 1) for t in scores),
        "manifest_timings": {k: v for k, v in manifest["timings"].items() if k != "chunks"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--chunk-size", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "v2.1")
    parser.add_argument("--corpus", type=Path, default=None, help="default: PTC training articles")
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "batch_workers.json"
    )
    args = parser.parse_args()
    corpus = args.corpus or Settings().data_dir / "ptc-semeval2020-task11" / "datasets" / "train-articles"
    results = []
    with tempfile.TemporaryDirectory(prefix="mindlens-batch-workers-") as scratch:
        for workers in args.workers:
            try:
                results.append(
                    measure(workers, corpus, args.docs, args.chunk_size, args.model, Path(scratch))
                )
            except PlatformError as err:
                sys.exit(f"error: {err}")
            print(json.dumps(results[-1]), flush=True)
    report = {
        "benchmark": "mindlens_batch_score on the Celery topology (make platform)",
        "command": "python " + " ".join(sys.argv),
        "corpus": str(corpus),
        "model": str(args.model),
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "python": host.python_version(),
        },
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
