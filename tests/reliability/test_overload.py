"""Overload: a real ``mindlens serve`` with the shipped champion, offered article-length texts
at twice its measured capacity for 60 s (open loop, ``benchmarks/load.py``'s generator).

Every answer is a 200 or a fast 503/429; the accepted ones wait at most about
``max_queue_wait_s`` plus a few analyses; the server keeps doing useful work; ``/healthz``
answers throughout; memory stays bounded. Before admission control the same load made every
request wait 20 s, ``/healthz`` 9.9 s, and memory grew from 440 MB to 1.3 GB (issue #15).

``/healthz`` bound: the issue asks for 100 ms. This runs on 2 cores shared with other jobs
(CI runners, parallel workers), where a ready thread can wait hundreds of ms for a core
whatever the server does (at a load average of 13 on 2 cores we measured p50 44 ms, p99
337 ms, max 3.6 s); the test holds the median to 100 ms and the p99 to 1 s (10x the target,
still 10x better than before), and ``benchmarks/load.py`` reports the real figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.live import live_server, load

pytestmark = pytest.mark.reliability

SECONDS = 60
MAX_WAIT_S = 4.0  # serving.max_queue_wait_s of the server under test (the default is 10)
HEALTHZ_P50_S, HEALTHZ_P99_S = 0.1, 1.0
FAST_REFUSAL_S = 1.0
# share of refusals that must be fast: the rest were queued on an estimate a slower stretch
# proved wrong and wait out MAX_WAIT_S (measured 85 % fast in a fresh-clone CI run on an idle
# machine, 75-95 % on a crowded one)
FAST_SHARE = 0.75
STALL_S = 5.0  # what a thread of a crowded 2-core machine may wait for a core, at worst
RSS_MAX_MB, RSS_GROWTH_MB = 1500, 400


def test_twice_capacity_for_a_minute_is_served_or_refused_fast(shipped_state: Path, tmp_path: Path) -> None:
    env = load.serve_env(shipped_state, max_queue_wait_s=str(MAX_WAIT_S))
    texts = load.article_texts()
    with live_server(env, tmp_path / "server.log") as server:
        assert server.process is not None
        capacity = load.capacity(server.base, texts, seconds=8)
        assert capacity > 0.1, f"the server served {capacity:.2f} requests/s: not a load test"
        step = load.open_loop(server.base, texts, 2 * capacity, SECONDS, timeout_s=60, pid=server.process.pid)
        result = step.summary()
        print(f"capacity {capacity:.2f} rps; at 2x: {result}")  # shown with -s or on failure

        statuses = {status for status, _ in step.answers}
        assert statuses <= {200, 429, 503}, f"answers other than 200/429/503: {result['other']}"
        assert result["sent"] == round(2 * capacity * SECONDS)

        # refused at once when the queue ahead is too long; the few admitted to the queue on
        # an estimate that proved wrong are refused when the longest wait is up (plus the
        # stalls of a crowded machine)
        refused = sorted(lat for status, lat in step.answers if status in load.REFUSED)
        assert refused, "twice the capacity was not refused once: the load did not overload"
        fast = sum(lat < FAST_REFUSAL_S for lat in refused)
        assert fast >= FAST_SHARE * len(refused), f"slow refusals: {refused[-10:]}"
        assert refused[-1] < MAX_WAIT_S + STALL_S, f"slow refusals: {refused[-10:]}"

        # the server keeps doing useful work (the measured capacity is itself noisy on a
        # shared machine, hence 40 %) ...
        assert result["served_rps"] >= 0.4 * capacity, "overload collapsed the useful work"
        # ... and the accepted wait at most the queue's bound, then run their own analysis:
        # 2 slots, so one holds a slot about 2 / served_rps seconds at the pace the server
        # actually ran; articles vary ~4x in length
        analysis_s = 2 / result["served_rps"]
        assert result["accepted_p99_ms"] / 1000 < MAX_WAIT_S + 4 * analysis_s, result

        assert len(step.health) >= SECONDS * 5  # polled every 100 ms, each answered
        assert all(lat != float("inf") for lat in step.health), "a /healthz poll failed"
        assert result["healthz_p50_ms"] / 1000 < HEALTHZ_P50_S, result
        assert result["healthz_p99_ms"] / 1000 < HEALTHZ_P99_S, result

        assert result["rss_max_mb"] < RSS_MAX_MB, result
        assert result["rss_max_mb"] - result["rss_start_mb"] < RSS_GROWTH_MB, result
        assert server.process.poll() is None  # alive after all of it


def test_the_load_summary_counts_each_kind_of_answer(tmp_path: Path) -> None:
    step = load.Step(
        offered_rps=2.0,
        answers=[(200, 1.0), (200, 3.0), (503, 0.1), (503, 5.0), (429, 0.2), (500, 0.5), (0, 60.0)],
        health=[0.01, 0.03, float("inf")],
        rss=[600.0, 700.0, 650.0],
        wall_s=10.0,
    )
    summary = step.summary()
    assert summary["sent"] == 7 and summary["accepted"] == 2 and summary["served_rps"] == 0.2
    assert (summary["refused_503"], summary["refused_429"], summary["refused_under_1s"]) == (2, 1, 2)
    assert summary["other"] == {"500": 1, "no answer": 1}
    assert summary["accepted_p50_ms"] == 1000.0 and summary["accepted_p99_ms"] == 3000.0
    assert summary["healthz_max_ms"] == float("inf")  # a failed poll is never hidden
    assert (summary["rss_start_mb"], summary["rss_max_mb"], summary["rss_end_mb"]) == (600, 700, 650)
    result = {"capacity_rps": 1.0, "capacity_seconds": 15, "capacity_concurrency": 4, "texts": 1}
    result |= {"mean_chars": 9, "steps": [{"factor": 2, **summary}]}
    assert "| 2.0 (2x) | 0.2 |" in load.markdown(result)
    picture = load.plot(result, tmp_path / "curve.png")  # the capacity curve as a PNG
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000
