"""``mindlens platform up`` without starting the topology (that is test_celery_topology.py):
its settings from the environment, the environment every process gets, one clear line when
PostgreSQL or Redis is unreachable, and a shutdown that leaves no process behind, even one
that ignores SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT, free_port

from mindlens.airflow_local import (
    HOSTNAME_ENV,
    Platform,
    PlatformConfig,
    PlatformError,
    _Process,
    check_redis,
    ensure_postgres_database,
    group_alive,
    platform_env,
    process_hostname,
)
from mindlens.config import Settings


def test_config_defaults_match_the_loopback_services_and_options_win() -> None:
    config = PlatformConfig.from_env({})
    assert config.airflow_db == "postgresql+psycopg2://postgres@127.0.0.1:5432/mindlens_airflow"
    assert config.broker_url == "redis://127.0.0.1:6379/0"
    assert (config.workers, config.concurrency, config.airflow_port, config.mlflow_port) == (2, 2, 8080, 5000)
    assert config.result_backend == "db+" + config.airflow_db
    env = {"MINDLENS_PLATFORM_WORKERS": "3", "MINDLENS_PLATFORM_MLFLOW_PORT": "5999"}
    config = PlatformConfig.from_env(env, workers=4, concurrency=None)
    assert (config.workers, config.concurrency, config.mlflow_port) == (4, 2, 5999)
    with pytest.raises(PlatformError, match="not a number"):
        PlatformConfig.from_env({"MINDLENS_PLATFORM_WORKERS": "two"})
    with pytest.raises(PlatformError, match="at least one worker"):
        PlatformConfig.from_env({}, workers=0)


def test_every_process_gets_celery_postgres_and_the_mlflow_server(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite:////tmp/not-this.db")
    settings = Settings(state_dir=tmp_path)
    config = PlatformConfig.from_env({}, airflow_port=18080, mlflow_port=15000)
    env = platform_env(settings, config)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == config.airflow_db  # not the shell's
    assert env["AIRFLOW__CELERY__BROKER_URL"] == config.broker_url
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW_HOME"] == str(tmp_path / "platform" / "airflow")
    assert env["MINDLENS_MLFLOW__TRACKING_URI"] == "http://127.0.0.1:15000"
    assert env["MINDLENS_MLFLOW__ARTIFACT_ROOT"] == str(tmp_path / "platform" / "mlartifacts")
    workers = [spec for spec in Platform(settings, config).specs() if spec[0].startswith("worker-")]
    assert [extra[HOSTNAME_ENV] for _, _, extra in workers] == ["worker-1", "worker-2"]


def test_a_worker_reports_its_own_hostname(monkeypatch) -> None:
    monkeypatch.setenv(HOSTNAME_ENV, "worker-7")
    assert process_hostname() == "worker-7"
    monkeypatch.delenv(HOSTNAME_ENV)
    assert process_hostname()  # the FQDN


def test_unreachable_services_are_one_clear_error() -> None:
    closed = free_port()
    with pytest.raises(PlatformError, match=r"PostgreSQL not reachable .* set MINDLENS_PLATFORM_AIRFLOW_DB"):
        ensure_postgres_database(
            f"postgresql+psycopg2://postgres@127.0.0.1:{closed}/x", "MINDLENS_PLATFORM_AIRFLOW_DB"
        )
    with pytest.raises(PlatformError, match=r"must be a PostgreSQL URL"):
        ensure_postgres_database("sqlite:///x.db", "MINDLENS_PLATFORM_MLFLOW_DB")
    with pytest.raises(
        PlatformError, match=r"Redis not reachable at redis://.*set MINDLENS_PLATFORM_BROKER_URL"
    ) as err:
        check_redis(f"redis://:secret@127.0.0.1:{closed}/0")
    assert "secret" not in str(err.value)


def test_the_command_prints_the_error_without_a_traceback(tmp_path) -> None:
    env = os.environ | {
        "MINDLENS_STATE_DIR": str(tmp_path),
        "MINDLENS_PLATFORM_AIRFLOW_DB": f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/x",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mindlens.cli", "platform", "up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: PostgreSQL not reachable"), done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_stop_terms_then_kills_every_group_even_a_process_that_ignores_term(tmp_path) -> None:
    log = tmp_path / "p.log"
    log.touch()
    stubborn = "trap '' TERM; sleep 300 & wait; sleep 300"  # the shell and its child ignore TERM
    polite = "sleep 300"
    platform = Platform(
        Settings(state_dir=tmp_path), PlatformConfig.from_env({}), grace_s=1.0, say=lambda _: None
    )
    for name, script in (("stubborn", stubborn), ("polite", polite)):
        popen = subprocess.Popen(["sh", "-c", script], start_new_session=True)
        platform.processes.append(_Process(name, popen, log))
    pids = [p.popen.pid for p in platform.processes]
    time.sleep(0.3)
    started = time.monotonic()
    platform.stop()
    assert time.monotonic() - started < 10
    assert [pid for pid in pids if group_alive(pid)] == []
