"""Test-wide environment and shared fixtures.

The environment is set before anything imports Airflow or MLflow: a private
state folder (MLflow on SQLite, Airflow home), the DAGs folder, offline flags.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_STATE = Path(tempfile.mkdtemp(prefix="mindlens-test-"))

os.environ["MINDLENS_STATE_DIR"] = str(_STATE)
os.environ.setdefault("MINDLENS_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
os.environ["AIRFLOW_HOME"] = str(_STATE / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
# No test may make a server fetch a page off this machine (schemathesis sends the schema's
# example URL): URL analysis reaches only url_fetch.allowed_networks, with no DNS lookups.
os.environ["MINDLENS_URL_FETCH__PUBLIC"] = "false"

from mindlens.config import Settings, get_settings, reset_settings_cache

SMALL_SLICE = 24  # PTC articles used by tests that train


def data_dir() -> Path:
    return Path(os.environ["MINDLENS_DATA_DIR"]).resolve()


def _have_ptc() -> bool:
    return (data_dir() / "ptc-semeval2020-task11" / "datasets" / "train-articles").is_dir()


needs_ptc = pytest.mark.skipif(
    not _have_ptc(),
    reason="PTC data not found: set MINDLENS_DATA_DIR to the folder holding ptc-semeval2020-task11/",
)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    reset_settings_cache()
    yield
    reset_settings_cache()


@pytest.fixture(scope="session")
def champion_settings() -> Settings:
    """Settings whose registry holds a champion trained on a small PTC slice."""
    if not _have_ptc():
        pytest.skip("PTC data not found: set MINDLENS_DATA_DIR")
    from mindlens.data.prepare import prepare_dataset
    from mindlens.registry import register_if_better
    from mindlens.training.baseline import train_baseline

    reset_settings_cache()
    settings = get_settings()
    prepare_dataset(settings, max_documents=SMALL_SLICE, sources=["ptc"])
    result = train_baseline(settings, run_name="test-champion")
    register_if_better(settings, result.run_id, result.model_uri)
    return settings


@pytest.fixture(scope="session")
def shipped_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder of its own whose registry holds the shipped releases (V2 champion), as
    ``mindlens registry bootstrap`` leaves it; point ``MINDLENS_STATE_DIR`` at it to use it."""
    from mindlens.registry import bootstrap_releases
    from mindlens.training.release import SHIPPED_RELEASES

    state = tmp_path_factory.mktemp("shipped-state")
    bootstrap_releases(Settings(state_dir=state), list(SHIPPED_RELEASES))
    return state


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 90.0, process: subprocess.Popen | None = None) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def start_server(port: int, env: dict[str, str], log: Any) -> subprocess.Popen:
    """``mindlens serve`` on 127.0.0.1:``port`` in a subprocess: the real server tests talk to."""
    return subprocess.Popen(
        [sys.executable, "-m", "mindlens.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def stop_process(process: subprocess.Popen) -> None:
    """TERM, then KILL after 15 s: a test never leaves a server behind."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def live_server(champion_settings: Settings) -> Iterator[str]:
    """``mindlens serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    env = os.environ | {
        "MINDLENS_SERVING__MAX_TEXT_CHARS": "5000",
        "MINDLENS_SERVING__ADMIN_TOKEN": "test-admin-token",
        # URL analysis may fetch the tests' local news site (tests/news_server.py) and no other
        # loopback address; a short deadline keeps the timeout test quick
        "MINDLENS_URL_FETCH__ALLOWED_NETWORKS": '["127.0.0.1/32"]',
        "MINDLENS_URL_FETCH__TIMEOUT_S": "1.5",
        "MINDLENS_URL_FETCH__MAX_BYTES": "1000000",
    }
    log = open(_STATE / "server.log", "w")
    process = start_server(port, env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", process=process)
        yield base
    finally:
        stop_process(process)
        log.close()


@pytest.fixture(scope="session")
def label_studio_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real Label Studio for the session (``label_studio_server``); skips when it cannot
    be installed. Tests use projects of their own titles."""
    from label_studio_server import running_label_studio

    with running_label_studio(tmp_path_factory.mktemp("label-studio")) as connection:
        yield connection


# --- browser tests (tests/e2e): Debian's Chromium driven by Playwright, never a downloaded browser
CHROMIUM = os.environ.get("MINDLENS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_context(tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium profile (the persistent context is Playwright's --user-data-dir)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip package playwright is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set MINDLENS_CHROMIUM)")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
