"""Tasks that start at the same moment (the pipeline's mapped ``train`` under a real
scheduler) open one fresh SQLite MLflow store together: each must find it whole, none may
fail creating its tables (``duplicate column name: step``) or the experiment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

WORKERS = 3

# Imports first (seconds), then waits for the go file so every process opens the store at once.
OPEN_STORE = """
import sys, time
from pathlib import Path
import mlflow
from mindlens.config import get_settings
from mindlens.tracking import configure_mlflow
go = Path(sys.argv[1])
Path(sys.argv[2]).touch()
while not go.exists():
    time.sleep(0.01)
print(configure_mlflow(get_settings()))
"""


@pytest.mark.slow
def test_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path: Path) -> None:
    env = dict(os.environ, MINDLENS_STATE_DIR=str(tmp_path / "state"))
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_STORE, str(go), str(tmp_path / f"ready-{n}")],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    deadline = time.monotonic() + 180
    while len(list(tmp_path.glob("ready-*"))) < WORKERS:
        assert time.monotonic() < deadline, "the workers never got ready"
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        time.sleep(0.05)
    go.touch()
    results = [p.communicate(timeout=180) + (p.returncode,) for p in processes]
    failures = [err[-2000:] for _, err, code in results if code != 0]
    assert failures == []
    experiment_ids = {out.strip().splitlines()[-1] for out, _, _ in results}
    assert len(experiment_ids) == 1  # one experiment, found or created once
    assert (tmp_path / "state" / "mlflow.db").is_file()
