"""``kill -9`` of a real ``mindlens serve`` in the middle of work: nothing acknowledged is lost,
and a restart serves a good model from an intact registry.

- Feedback: many concurrent ``POST /feedback``, SIGKILL while some are in flight; every one
  answered 201 is in the database after the restart (and a replay finds it). The sequential
  version (five posts, then the kill) is ``tests/integration/test_feedback_api.py``'s
  ``test_acknowledged_feedback_survives_kill_9``; this one kills with writes in flight.
- Registry reload: ``POST /admin/reload`` after a promotion, SIGKILL while the new champion is
  being downloaded and loaded; the restart serves the promoted version (checksums verified),
  both versions and the alias are intact, and the killed download is cleaned up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlens.config import Settings
from mindlens.feedback import FeedbackStore
from mindlens.training.release import SHIPPED_RELEASES, read_release
from reliability.live import LiveServer, live_server, load

pytestmark = pytest.mark.reliability

ADMIN = {"X-API-Key": "crash-admin"}
TEXT = "They are traitors, all of them! The meeting is at noon."


def _env(state: Path) -> dict[str, str]:
    return load.serve_env(state, admin_token=ADMIN["X-API-Key"]) | {
        "MINDLENS_FEEDBACK__RATE_LIMIT_PER_MINUTE": "0"  # all from 127.0.0.1
    }


def _feedback(i: int) -> dict[str, Any]:
    return {"client_id": f"kill-{i}", "text": TEXT, "judgement": "manipulative", "comment": f"post {i}"}


async def _post_until_killed(server: LiveServer, total: int, kill_after: int) -> tuple[dict[str, int], int]:
    """``total`` posts, 32 at a time; SIGKILL once ``kill_after`` are acknowledged (others
    still in flight). Returns {client_id: feedback id} of the acknowledged, and how many failed."""
    assert server.process is not None
    acked: dict[str, int] = {}
    failed = 0
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:

        async def one(i: int) -> None:
            nonlocal failed
            async with gate:
                try:
                    answer = await client.post("/feedback", json=_feedback(i))
                except httpx.HTTPError:
                    failed += 1
                    return
            assert answer.status_code in (200, 201), answer.text
            acked[f"kill-{i}"] = answer.json()["id"]
            if len(acked) == kill_after:
                os.kill(server.process.pid, signal.SIGKILL)  # at once, from inside the load

        await asyncio.gather(*(one(i) for i in range(total)))
    return acked, failed


def test_every_acknowledged_feedback_survives_kill_9_with_writes_in_flight(
    shipped_state: Path, tmp_path: Path
) -> None:
    with live_server(_env(shipped_state), tmp_path / "server.log") as server:
        acked, failed = asyncio.run(_post_until_killed(server, total=300, kill_after=60))
        assert server.process is not None
        server.process.wait(timeout=15)
        assert server.process.returncode == -signal.SIGKILL
        assert len(acked) >= 60 and failed > 0  # killed mid-way: some never got an answer

        db = shipped_state / "feedback.db"
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)
        server.start()
        for client_id in list(acked)[:: max(1, len(acked) // 10)]:  # a replay finds the stored one
            i = int(client_id.split("-")[1])
            replay = httpx.post(f"{server.base}/feedback", json=_feedback(i), timeout=30)
            assert replay.status_code == 200 and replay.json()["id"] == acked[client_id], replay.text
        assert httpx.post(f"{server.base}/feedback", json=_feedback(10_000), timeout=30).status_code == 201

    store = FeedbackStore(f"sqlite:///{db}")
    try:
        stored = {record.client_id: record.id for record in store.list()}
    finally:
        store.close()
    lost = {client_id for client_id in acked if stored.get(client_id) != acked[client_id]}
    assert not lost, f"{len(lost)} acknowledged feedback items lost: {sorted(lost)[:5]}"


def test_kill_9_during_a_reload_restarts_on_a_good_version_with_the_registry_intact(
    shipped_state: Path, tmp_path: Path
) -> None:
    from mindlens.registry import list_versions, promote

    settings = Settings(state_dir=shipped_state)
    downloads = shipped_state / "serving"
    with live_server(_env(shipped_state), tmp_path / "server.log") as server:
        newest = str(len(SHIPPED_RELEASES))  # bootstrap registers the releases in order
        assert httpx.get(f"{server.base}/version").json()["model"]["version"] == newest
        promote(settings, "1")  # what `mindlens registry promote 1` does before it calls reload

        answers: list[Any] = []

        def reload() -> None:
            try:
                answers.append(httpx.post(f"{server.base}/admin/reload", headers=ADMIN, timeout=60))
            except httpx.HTTPError as err:
                answers.append(err)

        caller = threading.Thread(target=reload)
        caller.start()
        deadline = time.monotonic() + 30
        while not list(downloads.glob("champion-*")) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert list(downloads.glob("champion-*")), "the reload never started downloading"
        server.kill()  # mid-download or mid-load
        caller.join(timeout=30)
        assert answers and isinstance(answers[0], httpx.HTTPError), "the reload finished before the kill"
        assert list(downloads.glob("champion-*")), "kill -9 leaves the half-done download behind"

        server.start()  # serves the champion: v1, verified, not degraded
        version = httpx.get(f"{server.base}/version").json()
        assert version["model"]["version"] == "1" and version["semver"] == "1.0.0"
        ready = httpx.get(f"{server.base}/readyz").json()
        assert ready["status"] == "ready", ready
        assert httpx.post(f"{server.base}/analyze", json={"text": TEXT}).status_code == 200
        assert not list(downloads.glob("champion-*")), "the killed server's download was not removed"

    rows = {row["version"]: row for row in list_versions(settings)}
    assert set(rows) == {str(n) for n in range(1, len(SHIPPED_RELEASES) + 1)}
    assert rows["1"]["aliases"] == ["champion"] and all(rows[v]["aliases"] == [] for v in rows if v != "1")
    assert {rows[v]["semver"] for v in rows} == {read_release(f)["version"] for f in SHIPPED_RELEASES}
