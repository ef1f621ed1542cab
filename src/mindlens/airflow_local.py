"""Run the project's DAGs locally: on the embedded defaults (Airflow home under the state
folder, SQLite metadata, the repo's ``dags/`` and ``plugins/``), or as the Celery process
topology of ``make platform`` (``Platform``: PostgreSQL metadata, Redis broker, separate
Airflow components, N Celery workers and an MLflow server, all on loopback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mindlens.config import PROJECT_ROOT, RESOURCE_ROOT, Settings
from mindlens.tracking import init_tracking_store


def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment of every local ``airflow`` command.

    The interpreter's ``bin`` folder goes first on ``PATH``: ``airflow standalone`` starts
    its components (scheduler, api-server, ...) as ``airflow`` by name, which a venv that
    was never activated (``make airflow-ui``, ``.venv/bin/mindlens``) does not provide."""
    home = settings.paths.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    env.setdefault("AIRFLOW_HOME", str(home))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(RESOURCE_ROOT / "dags"))
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(RESOURCE_ROOT / "plugins"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    env["MINDLENS_STATE_DIR"] = str(settings.state_dir)
    env["MINDLENS_DATA_DIR"] = str(settings.data_dir)
    return env


def _airflow(args: list[str], env: dict[str, str]) -> int:
    airflow = Path(sys.executable).with_name("airflow")
    command = [str(airflow)] if airflow.exists() else [sys.executable, "-m", "airflow"]
    return subprocess.run(command + args, env=env, cwd=PROJECT_ROOT).returncode


def run_airflow(settings: Settings, args: list[str]) -> int:
    """Any ``airflow`` command on the project's local Airflow: its database migrated and the
    MLflow store initialised first, so tasks that run in parallel (the pipeline's mapped
    ``train``) never race to create the same SQLite schema."""
    init_tracking_store(settings)
    env = airflow_env(settings)
    return _airflow(["db", "migrate"], env) or _airflow(args, env)


def run_dag_once(settings: Settings, dag_id: str, conf: dict[str, Any] | None = None) -> int:
    """``airflow dags test DAG`` in a child process; its exit code."""
    return run_airflow(settings, ["dags", "test", dag_id, "--conf", json.dumps(conf or {})])


# --- The Celery process topology (``make platform``, ``mindlens platform up``) ----------------

# Every setting of the topology, read from the environment; the defaults are the loopback
# services of a development machine (PostgreSQL with trust auth, Redis without a password).
# A password belongs in the URL's userinfo, from the environment, never in a file.
PLATFORM_ENV_DEFAULTS: dict[str, str] = {
    "MINDLENS_PLATFORM_AIRFLOW_DB": "postgresql+psycopg2://postgres@127.0.0.1:5432/mindlens_airflow",
    "MINDLENS_PLATFORM_MLFLOW_DB": "postgresql+psycopg2://postgres@127.0.0.1:5432/mindlens_mlflow",
    "MINDLENS_PLATFORM_BROKER_URL": "redis://127.0.0.1:6379/0",
    "MINDLENS_PLATFORM_AIRFLOW_PORT": "8080",
    "MINDLENS_PLATFORM_MLFLOW_PORT": "5000",
    "MINDLENS_PLATFORM_WORKERS": "2",
    "MINDLENS_PLATFORM_WORKER_CONCURRENCY": "2",
}
HOSTNAME_ENV = "MINDLENS_PLATFORM_HOSTNAME"  # the name a Celery worker's task instances report


class PlatformError(RuntimeError):
    """A service the topology needs is unreachable or one of its processes failed; the
    message says which and what to set (the CLI prints it without a traceback)."""


def process_hostname() -> str:
    """Airflow's ``core.hostname_callable`` on the platform: each Celery worker on this one
    machine reports its own name (``worker-1``...) as the task instances' ``hostname``, so
    the UI and the REST API tell the workers apart; other processes report the FQDN."""
    import socket

    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL (redis://): hide the userinfo wholesale
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}***@{rest.split('@', 1)[1]}" if "@" in rest else url


@dataclass(frozen=True)
class PlatformConfig:
    """Where the topology's services are and how many workers it runs."""

    airflow_db: str  # Airflow metadata and the Celery result backend (PostgreSQL)
    mlflow_db: str  # MLflow tracking and registry store (PostgreSQL)
    broker_url: str  # Celery broker (Redis)
    airflow_port: int = 8080
    mlflow_port: int = 5000
    workers: int = 2
    concurrency: int = 2  # task slots per worker

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> PlatformConfig:
        """``MINDLENS_PLATFORM_*`` (defaults in ``PLATFORM_ENV_DEFAULTS``); keyword overrides
        that are not None win (the CLI's options)."""
        source = os.environ if env is None else env

        def get(name: str) -> str:
            return source.get(name) or PLATFORM_ENV_DEFAULTS[name]

        try:
            values: dict[str, Any] = {
                "airflow_db": get("MINDLENS_PLATFORM_AIRFLOW_DB"),
                "mlflow_db": get("MINDLENS_PLATFORM_MLFLOW_DB"),
                "broker_url": get("MINDLENS_PLATFORM_BROKER_URL"),
                "airflow_port": int(get("MINDLENS_PLATFORM_AIRFLOW_PORT")),
                "mlflow_port": int(get("MINDLENS_PLATFORM_MLFLOW_PORT")),
                "workers": int(get("MINDLENS_PLATFORM_WORKERS")),
                "concurrency": int(get("MINDLENS_PLATFORM_WORKER_CONCURRENCY")),
            }
        except ValueError as err:
            raise PlatformError(f"a MINDLENS_PLATFORM_* port or count is not a number: {err}") from None
        values |= {k: v for k, v in overrides.items() if v is not None}
        if values["workers"] < 1 or values["concurrency"] < 1:
            raise PlatformError("the platform needs at least one worker with at least one slot")
        return cls(**values)

    @property
    def airflow_url(self) -> str:
        return f"http://127.0.0.1:{self.airflow_port}"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def result_backend(self) -> str:
        """Celery's database result backend on the Airflow metadata database."""
        return "db+" + self.airflow_db


def ensure_postgres_database(url: str, variable: str) -> None:
    """Create the database ``url`` names when it is missing (so ``make platform`` works on a
    fresh server); ``PlatformError`` naming ``variable`` when the server is unreachable."""
    import re

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        target = make_url(url)
    except ArgumentError as err:
        raise PlatformError(f"{variable} is not a database URL: {err}") from None
    if not target.drivername.startswith("postgresql") or not re.fullmatch(r"\w+", target.database or ""):
        raise PlatformError(f"{variable} must be a PostgreSQL URL naming a database, got {_redacted(url)}")
    admin = create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).scalar()
            if not found:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except OperationalError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        raise PlatformError(
            f"PostgreSQL not reachable at {_redacted(url)} ({reason}); start it or set {variable}"
        ) from None
    finally:
        admin.dispose()


def check_redis(url: str) -> None:
    """``PlatformError`` when the Celery broker does not answer a PING."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.exceptions.RedisError, ValueError) as err:
        raise PlatformError(
            f"Redis not reachable at {_redacted(url)} ({err}); start it or set MINDLENS_PLATFORM_BROKER_URL"
        ) from None


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _command(name: str) -> list[str]:
    """The venv's console script ``name``, or ``python -m name``."""
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", name]


def platform_env(settings: Settings, config: PlatformConfig) -> dict[str, str]:
    """The environment of every process of the topology: CeleryExecutor, PostgreSQL metadata,
    Redis broker, its own ``AIRFLOW_HOME``, and the pipeline's tasks pointed at the MLflow
    server (``MINDLENS_MLFLOW__TRACKING_URI``) with artifacts in a local folder."""
    home = settings.paths.platform
    env = airflow_env(settings)
    env |= {
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": config.airflow_db,
        "AIRFLOW__CELERY__BROKER_URL": config.broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": config.result_backend,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(config.airflow_port),
        "AIRFLOW__API__BASE_URL": config.airflow_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.airflow_url}/execution/",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "mindlens.airflow_local.process_hostname",
        "AIRFLOW__CORE__PARALLELISM": os.environ.get(
            "AIRFLOW__CORE__PARALLELISM", str(max(4, config.workers * config.concurrency))
        ),
        "MINDLENS_MLFLOW__TRACKING_URI": config.mlflow_url,
        "MINDLENS_MLFLOW__ARTIFACT_ROOT": str(home / "mlartifacts"),
    }
    env.setdefault("AIRFLOW__API__WORKERS", "1")  # one uvicorn worker: 2 cores, loopback users
    return env


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class Platform:
    """The topology as separate processes on loopback: MLflow server, Airflow api-server,
    scheduler, dag-processor, triggerer and ``config.workers`` Celery workers.

    ``start()`` checks PostgreSQL and Redis, creates the databases, migrates Airflow's and
    starts every process in its own process group (logs in ``<state>/platform/logs/``);
    ``wait_ready()`` waits for both servers' health; ``stop()`` TERMs every group and KILLs
    what is left after ``grace_s`` (task processes included). A context manager stops on exit."""

    settings: Settings
    config: PlatformConfig
    grace_s: float = 10.0
    say: Callable[[str], None] = print
    processes: list[_Process] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.settings.paths.platform

    @property
    def env(self) -> dict[str, str]:
        return platform_env(self.settings, self.config)

    def check_services(self) -> None:
        ensure_postgres_database(self.config.airflow_db, "MINDLENS_PLATFORM_AIRFLOW_DB")
        ensure_postgres_database(self.config.mlflow_db, "MINDLENS_PLATFORM_MLFLOW_DB")
        check_redis(self.config.broker_url)
        for port, variable in (
            (self.config.airflow_port, "MINDLENS_PLATFORM_AIRFLOW_PORT"),
            (self.config.mlflow_port, "MINDLENS_PLATFORM_MLFLOW_PORT"),
        ):
            if not _port_free(port):
                raise PlatformError(f"port {port} on 127.0.0.1 is taken; set {variable}")

    def specs(self) -> list[tuple[str, list[str], dict[str, str]]]:
        """(name, command, extra environment) of each process, in start order."""
        airflow = _command("airflow")
        mlflow = [
            *_command("mlflow"),
            "server",
            "--backend-store-uri",
            self.config.mlflow_db,
            "--artifacts-destination",
            str(self.home / "mlartifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.config.mlflow_port),
            "--workers",
            "1",
        ]
        # No job runner: its huey consumers (about 1.7 GB) serve features MindLens does not use.
        specs = [("mlflow", mlflow, {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})]
        specs += [
            (name, [*airflow, name], {}) for name in ("api-server", "scheduler", "dag-processor", "triggerer")
        ]
        for i in range(1, self.config.workers + 1):
            name = f"worker-{i}"
            command = [*airflow, "celery", "worker", "--celery-hostname", f"{name}@%h"]
            command += ["--concurrency", str(self.config.concurrency), "--skip-serve-logs"]
            specs.append((name, command, {HOSTNAME_ENV: name}))
        return specs

    def start(self) -> None:
        self.check_services()
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        (self.home / "mlartifacts").mkdir(parents=True, exist_ok=True)
        env = self.env
        self.say("migrating the Airflow metadata database (PostgreSQL)...")
        with open(logs / "db-migrate.log", "w") as out:
            migrated = subprocess.run(
                [*_command("airflow"), "db", "migrate"],
                env=env,
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if migrated.returncode != 0:
            raise PlatformError(f"airflow db migrate failed; see {logs / 'db-migrate.log'}")
        for name, command, extra in self.specs():
            log = logs / f"{name}.log"
            with open(log, "w") as out:
                popen = subprocess.Popen(
                    command,
                    env=env | extra,
                    cwd=PROJECT_ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own group: Ctrl-C reaches only the launcher, which stops it
                )
            self.processes.append(_Process(name, popen, log))
            self.say(f"started {name} (pid {popen.pid}, log {log})")
        (self.home / "pids.json").write_text(json.dumps({p.name: p.popen.pid for p in self.processes}))

    def dead(self) -> list[_Process]:
        return [p for p in self.processes if p.popen.poll() is not None]

    def _failed(self, process: _Process) -> PlatformError:
        tail = process.log.read_text(errors="replace").strip().splitlines()[-5:]
        return PlatformError(
            f"{process.name} exited with code {process.popen.returncode}; last lines of {process.log}:\n"
            + "\n".join(tail)
        )

    def wait_ready(self, timeout_s: float = 300.0) -> None:
        """Both servers healthy and a scheduler heartbeat, or ``PlatformError``."""
        import time

        import httpx

        checks = {
            f"{self.config.mlflow_url}/health": lambda r: r.status_code == 200,
            f"{self.config.airflow_url}/api/v2/monitor/health": lambda r: (
                r.status_code == 200 and r.json()["scheduler"]["status"] == "healthy"
            ),
        }
        deadline = time.monotonic() + timeout_s
        while checks:
            for process in self.dead():
                raise self._failed(process)
            for url, ok in list(checks.items()):
                try:
                    if ok(httpx.get(url, timeout=3)):
                        del checks[url]
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
            if time.monotonic() > deadline:
                raise PlatformError(f"not healthy within {timeout_s:.0f} s: {', '.join(checks)}")
            time.sleep(1)

    def watch(self, stop: threading.Event) -> None:
        """Block until ``stop`` is set (a signal) or a process exits (``PlatformError``)."""
        while not stop.wait(1.0):
            for process in self.dead():
                raise self._failed(process)

    def stop(self) -> None:
        """TERM every process group, KILL what is left (and any task process that left its
        worker's group) after ``grace_s``."""
        import signal

        import psutil

        descendants: list[psutil.Process] = []
        for process in self.processes:
            try:
                descendants += psutil.Process(process.popen.pid).children(recursive=True)
            except psutil.Error:
                pass
        for process in reversed(self.processes):
            _signal_group(process.popen.pid, signal.SIGTERM)
        self._wait_gone(self.grace_s, 0.2)
        for process in self.processes:
            if _group_alive(process.popen):
                self.say(f"{process.name} did not stop within {self.grace_s:.0f} s: killed")
                _signal_group(process.popen.pid, signal.SIGKILL)
        for child in descendants:
            try:
                child.kill()
            except psutil.Error:
                pass
        for process in self.processes:
            try:
                process.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._wait_gone(5.0, 0.05)  # a killed orphan can still be exiting for a moment
        self.processes.clear()
        (self.home / "pids.json").unlink(missing_ok=True)

    def _wait_gone(self, seconds: float, step: float) -> None:
        """Wait up to ``seconds`` until no process of any group is left alive."""
        import time

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(_group_alive(p.popen) for p in self.processes):
            time.sleep(step)

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """Whether a live process is left in the process group ``pgid``. Zombies do not count:
    an orphan's exit status waits for PID 1, which in some containers never collects it."""
    import psutil

    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                return True
        except (OSError, psutil.Error):
            continue
    return False


def _group_alive(popen: subprocess.Popen) -> bool:
    popen.poll()  # reap the leader first
    return group_alive(popen.pid)


class AirflowClient:
    """Airflow 3's REST API as the UI uses it: wait for health and a parsed DAG, unpause and
    trigger with conf, wait for the run, read its task instances. Local development auth
    (``SIMPLE_AUTH_MANAGER_ALL_ADMINS``): no token. The real-scheduler tests, the platform
    test, the screenshots and the batch benchmark share it."""

    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_json(self, path: str, ok: Callable[[Any], bool], timeout_s: float, what: str) -> Any:
        """Poll ``GET path`` every 2 s until its JSON satisfies ``ok``; TimeoutError naming ``what``."""
        import time

        import httpx

        deadline = time.monotonic() + timeout_s
        last: object = None
        while time.monotonic() < deadline:
            try:
                answer = self.http.get(path)
                last = answer.status_code
                if answer.status_code == 200 and ok(answer.json()):
                    return answer.json()
            except httpx.HTTPError as err:
                last = err
            time.sleep(2)
        raise TimeoutError(f"{what} not reached within {timeout_s:.0f}s (last: {last})")

    def wait_healthy(self, timeout_s: float = 180.0) -> None:
        self.wait_json(
            "/api/v2/monitor/health",
            lambda h: h["scheduler"]["status"] == "healthy",
            timeout_s,
            "a healthy scheduler",
        )

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, parse_timeout_s: float = 180.0) -> str:
        """Wait until the DAG is parsed, unpause it and start a run with ``conf``; its run id."""
        self.wait_json(f"/api/v2/dags/{dag_id}", lambda d: True, parse_timeout_s, f"the parsed DAG {dag_id}")
        self.http.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        created = self.http.post(
            f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}}
        )
        if created.status_code != 200:
            raise RuntimeError(f"triggering {dag_id} failed ({created.status_code}): {created.text}")
        return str(created.json()["dag_run_id"])

    def wait_run(self, dag_id: str, run_id: str, timeout_s: float = 900.0) -> dict[str, Any]:
        """The run once it finished (success or failed)."""
        return dict(
            self.wait_json(
                f"/api/v2/dags/{dag_id}/dagRuns/{run_id}",
                lambda r: r["state"] in ("success", "failed"),
                timeout_s,
                f"a finished {dag_id} run",
            )
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.http.get(
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000}
        )
        answer.raise_for_status()
        return list(answer.json()["task_instances"])
