"""A full disk: the whole state folder on a small tmpfs, filled to the last byte, so the
prediction log's writes fail with a real ENOSPC. ``/analyze`` and ``/analyze/batch`` keep
answering 200, the lost lines are counted, ``/readyz`` says degraded; once space is freed the
log writes again (whole lines only) and ``/readyz`` is ready. Needs ``mount -t tmpfs`` (root
or CAP_SYS_ADMIN); skipped with the reason otherwise. Unmounted in teardown, even on failure.
(The same fault simulated without a mount: ``test_storage_faults.py``.)"""

from __future__ import annotations

import errno
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reliability.faults import FolderRegistry, errors_total

pytestmark = pytest.mark.reliability

SIZE = "2m"


@pytest.fixture
def full_disk_state(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/state`` (the state folder ``client_for`` serves from) as a 2 MB tmpfs.
    Requested before ``client_for``, so the app is closed before the unmount."""
    state = tmp_path / "state"
    state.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0755", "tmpfs", str(state)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield state
    finally:
        if subprocess.run(["umount", str(state)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(state)], check=False)  # still busy: detach it


def _fill(folder: Path) -> Path:
    """Write one file until the filesystem says ENOSPC; returns it (deleting it frees the space)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as out:
        chunk = b"\0" * 4096
        try:
            while True:
                out.write(chunk)
        except OSError as err:
            assert err.errno == errno.ENOSPC, err
        try:
            while True:  # the last partial block
                out.write(b"\0")
        except OSError:
            pass
    return filler


def test_a_full_state_disk_degrades_but_every_analysis_answers(
    registry: FolderRegistry, full_disk_state: Path, client_for: Any
) -> None:
    registry.register("1")
    client = client_for()
    log_path: Path = client.app.state.settings.paths.predictions_log
    assert log_path.is_relative_to(full_disk_state)
    text = "Make our streets safe again! " * 20
    assert client.post("/analyze", json={"text": "Before the disk fills."}).status_code == 200
    client.app.state.prediction_log.flush()
    lines_before = log_path.read_text().splitlines()

    filler = _fill(full_disk_state)
    # the log's last page has room for a few more lines; then every write fails
    answers = [client.post("/analyze", json={"text": text}) for _ in range(30)]
    answers += [client.post("/analyze/batch", json={"texts": [text, text]}) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 35, [a.text for a in answers if a.status_code != 200]
    client.app.state.prediction_log.flush()
    written = len(log_path.read_text().splitlines()) - len(lines_before)
    assert written < 20  # the disk is full: most lines were not written ...
    assert errors_total(client, "prediction_log") == 40 - written  # ... and each lost one is counted
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
    assert any("prediction log" in problem for problem in ready.json()["problems"])
    assert client.get("/healthz").status_code == 200
    for line in log_path.read_text().splitlines():
        json.loads(line)  # what is there is whole lines

    filler.unlink()  # space again: the next analysis is logged and /readyz recovers
    assert client.post("/analyze", json={"text": "After the disk was freed."}).status_code == 200
    client.app.state.prediction_log.flush()
    assert client.get("/readyz").json()["status"] == "ready"
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert len(lines) > len(lines_before)
    assert lines[-1]["text_chars"] == len("After the disk was freed.")
