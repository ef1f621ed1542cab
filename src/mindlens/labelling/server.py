"""Install and run a local Label Studio for development and tests.

Label Studio (Django 5, ~1 GB of dependencies) conflicts with the app's
environment, so it lives in a venv of its own and runs as a subprocess; the
app only talks to it over HTTP through ``label_studio_sdk``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

VERSION = "1.23.2"
DEFAULT_VENV = Path("/tmp/mindlens-label-studio-venv")

# No telemetry, update checks or Sentry: dev and CI machines may be offline.
OFFLINE_ENV = {
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
}


class LabelStudioInstallError(RuntimeError):
    """The separate venv could not be created or ``pip install`` failed (e.g. no PyPI)."""


def executable(venv_dir: Path) -> Path:
    return Path(venv_dir) / "bin" / "label-studio"


def _installed_version(venv_dir: Path) -> str | None:
    python = Path(venv_dir) / "bin" / "python"
    if not (python.exists() and executable(venv_dir).exists()):
        return None
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('label-studio'))"],
        check=False,
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_label_studio(venv_dir: Path = DEFAULT_VENV, version: str = VERSION, timeout: float = 900) -> Path:
    """The ``label-studio`` executable in ``venv_dir``, installing it there first if missing
    (about a minute from PyPI). Raises ``LabelStudioInstallError`` with pip's output tail."""
    venv_dir = Path(venv_dir)
    if _installed_version(venv_dir) == version:
        return executable(venv_dir)
    python = venv_dir / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv_dir)],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                f"label-studio=={version}",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.CalledProcessError as err:
        tail = ((err.stderr or "") + (err.stdout or ""))[-2000:]
        raise LabelStudioInstallError(
            f"installing label-studio=={version} into {venv_dir} failed:\n{tail}"
        ) from None
    except subprocess.TimeoutExpired:
        raise LabelStudioInstallError(
            f"installing label-studio=={version} took over {timeout:.0f}s"
        ) from None
    if _installed_version(venv_dir) != version:
        raise LabelStudioInstallError(f"label-studio {version} not found in {venv_dir} after install")
    return executable(venv_dir)


def server_env(data_dir: Path, username: str, password: str, token: str) -> dict[str, str]:
    """Environment for ``label-studio start``. The legacy token only works if it is enabled
    when the data dir is first created, so it is always enabled."""
    return (
        os.environ
        | OFFLINE_ENV
        | {
            "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
            "LABEL_STUDIO_USERNAME": username,
            "LABEL_STUDIO_PASSWORD": password,
            "LABEL_STUDIO_USER_TOKEN": token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        }
    )


def wait_for_health(url: str, timeout: float = 180, process: subprocess.Popen | None = None) -> None:
    """Block until ``<url>/health`` answers 200 (about 36 s on a new data dir: migrations)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"label-studio exited with code {process.returncode} before {url}/health answered"
            )
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=3) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise TimeoutError(f"{url}/health did not answer within {timeout:.0f}s")


def start_label_studio(
    venv_dir: Path,
    data_dir: Path,
    port: int,
    username: str,
    password: str,
    token: str,
    log_path: Path | None = None,
    timeout: float = 180,
) -> subprocess.Popen:
    """Start Label Studio on 127.0.0.1:``port`` and wait until healthy; the caller stops it
    (``terminate()``). ``token`` must be 40 hex characters; output goes to ``log_path``
    (default ``<data_dir>/label-studio.log``)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = Path(log_path) if log_path else data_dir / "label-studio.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                str(executable(venv_dir)),
                "start",
                "--port",
                str(port),
                "--internal-host",
                "127.0.0.1",
                "--no-browser",
            ],
            env=server_env(data_dir, username, password, token),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
        )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", timeout, process)
    except BaseException:
        stop_label_studio(process)
        tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
        raise RuntimeError(f"Label Studio did not become healthy; log tail:\n{tail}") from None
    return process


def stop_label_studio(process: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate the server (and the workers it spawned, via its process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, 15)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(timeout=timeout)
