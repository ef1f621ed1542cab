"""The dynamic batcher (serving/batching.py): concurrent requests share network calls, every
caller gets exactly its own outputs back, errors reach the callers of the failed batch, and a
lone request never waits. Checked with a recording network and with the shipped champion
(whose static int8 graph gives the same answer in any batch)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from mindlens.serving.batching import WindowBatcher, attach_batcher, inference_layout


def _windows(request: int, lengths: Sequence[int]) -> list[dict[str, Any]]:
    return [
        {"text_index": 0, "input_ids": [request * 1000 + k] * n, "offsets": [(0, 0)] * n}
        for k, n in enumerate(lengths)
    ]


class RecordingNetwork:
    """A network whose output names its input (so mix-ups show) and that records each call;
    ``gate`` holds calls back until set (to let requests queue up behind the first)."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.calls: list[list[int]] = []  # the first token id of each window, per call
        self.gate = threading.Event()
        self.gate.set()
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def __call__(
        self, windows: Sequence[dict[str, Any]], indices: Sequence[int]
    ) -> list[dict[str, np.ndarray]]:
        self.gate.wait(10)
        ids = [windows[i]["input_ids"][0] for i in indices]
        with self.lock:
            self.calls.append(ids)
        if self.fail_on is not None and self.fail_on in ids:
            raise RuntimeError("the network failed")
        return [{"id": np.array([windows[i]["input_ids"][0], len(windows[i]["input_ids"])])} for i in indices]


def _ids(rows: list[dict[str, np.ndarray]]) -> list[int]:
    return [int(row["id"][0]) for row in rows]


def test_every_caller_gets_its_own_rows_in_order() -> None:
    network = RecordingNetwork()
    batcher = WindowBatcher(network, workers=2, max_tokens=64, max_rows=8)
    try:
        requests = {r: _windows(r, [(r * 7 + k * 5) % 40 + 1 for k in range(r % 9 + 1)]) for r in range(40)}
        with ThreadPoolExecutor(16) as pool:
            got = dict(zip(requests, pool.map(batcher, requests.values()), strict=True))
        for r, windows in requests.items():
            assert _ids(got[r]) == [w["input_ids"][0] for w in windows]
            assert [int(row["id"][1]) for row in got[r]] == [len(w["input_ids"]) for w in windows]
        for call in network.calls:  # no call over the budget (a window longer than it goes alone)
            assert len(call) <= 8
    finally:
        batcher.close()


def test_queued_requests_share_a_call_within_the_budget() -> None:
    network = RecordingNetwork()
    batcher = WindowBatcher(network, workers=1, max_tokens=100, max_rows=32)
    try:
        network.gate.clear()  # the first call blocks; the others queue behind it
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(batcher, _windows(r, [10])) for r in range(6)]
            time.sleep(0.3)
            network.gate.set()
            results = [f.result(10) for f in futures]
        assert [_ids(rows) for rows in results] == [[r * 1000] for r in range(6)]
        assert len(network.calls) == 2  # the first alone, then the five that waited, together
        assert sorted(network.calls[1]) == sorted(
            r * 1000 for r in range(6) if r * 1000 not in network.calls[0]
        )
        assert batcher.stats.shared_calls == 1 and batcher.stats.max_requests == 5
        # two requests whose padded batch would exceed the budget never share a call
        network.gate.clear()
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(batcher, _windows(100 + r, [60])) for r in range(3)]
            time.sleep(0.3)
            network.gate.set()
            for f in futures:
                f.result(10)
        assert all(len(call) == 1 for call in network.calls[2:])
    finally:
        batcher.close()


def test_one_long_text_runs_on_every_worker() -> None:
    """A text's windows are split into budget-sized chunks that workers run at once."""
    running, most = 0, 0
    lock = threading.Lock()

    def slow(windows: Sequence[dict[str, Any]], indices: Sequence[int]) -> list[dict[str, np.ndarray]]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return [{"id": np.array([windows[i]["input_ids"][0], 0])} for i in indices]

    batcher = WindowBatcher(slow, workers=2, max_tokens=64, max_rows=32)
    try:
        rows = batcher(_windows(1, [30] * 8))  # four chunks of two windows
        assert _ids(rows) == [1000 + k for k in range(8)]
        assert most == 2
    finally:
        batcher.close()


def test_a_failed_batch_fails_its_callers_and_the_batcher_goes_on() -> None:
    network = RecordingNetwork(fail_on=7000)
    batcher = WindowBatcher(network, workers=1, max_tokens=512)
    try:
        with pytest.raises(RuntimeError, match="the network failed"):
            batcher(_windows(7, [5, 5]))
        assert _ids(batcher(_windows(8, [5]))) == [8000]
    finally:
        batcher.close()


def test_a_lone_request_never_waits_for_companions() -> None:
    waits: list[float] = []
    batcher = WindowBatcher(
        RecordingNetwork(),
        workers=1,
        max_tokens=512,
        max_wait_s=0.5,
        busy=lambda: 1,  # only this request is running
        observe=lambda windows, requests, waited: waits.append(waited),
    )
    try:
        for r in range(5):
            batcher(_windows(r, [4]))
        assert max(waits) < 0.25
    finally:
        batcher.close()


def test_a_small_batch_waits_for_running_requests() -> None:
    """With two analyses running and one submitted, the worker waits (up to the bound) for
    the other's windows, and both share one call."""
    network = RecordingNetwork()
    batcher = WindowBatcher(network, workers=1, max_tokens=512, max_wait_s=2.0, busy=lambda: 2)
    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(batcher, _windows(1, [4]))
            time.sleep(0.2)
            second = pool.submit(batcher, _windows(2, [4]))
            assert _ids(first.result(5)) == [1000] and _ids(second.result(5)) == [2000]
        assert network.calls == [[1000, 2000]] or network.calls == [[2000, 1000]]
    finally:
        batcher.close()


def test_after_close_calls_run_in_the_caller() -> None:
    network = RecordingNetwork()
    batcher = WindowBatcher(network, workers=2)
    batcher.close()
    assert _ids(batcher(_windows(3, [4, 9]))) == [3000, 3001]
    assert batcher(_windows(4, [])) == []


def test_inference_layout_never_oversubscribes() -> None:
    assert inference_layout(0, 0, cores=2) == (2, 1)
    assert inference_layout(1, 0, cores=2) == (1, 2)
    assert inference_layout(0, 0, cores=8) == (8, 1)
    assert inference_layout(3, 0, cores=8) == (3, 2)
    assert inference_layout(2, 4, cores=2) == (2, 4)  # named explicitly: as named
    with pytest.raises(ValueError):
        WindowBatcher(RecordingNetwork(), workers=0)


def test_the_champion_answers_the_same_through_the_batcher() -> None:
    """Concurrent analyses through the batcher give exactly what each text gets alone
    without it: V2.1's graph is batch-invariant, so requests share calls; V2's dynamic int8
    graph is not, so its requests never share one (they would change each other's scores)."""
    pytest.importorskip("onnxruntime")
    from test_batch_invariance import ARTICLE

    from mindlens.models.analyzer import Analyzer
    from mindlens.training.release import SHIPPED

    texts = [" ".join(ARTICLE[k : k + n]) for k, n in ((0, 3), (2, 9), (5, 1), (1, 20), (7, 2), (3, 5))] * 2
    for bundle, invariant in ((SHIPPED, True), (SHIPPED.parent / "v2", False)):
        plain = Analyzer.load(bundle, threads=1)
        expected = [plain.analyze(text) for text in texts]
        batched = Analyzer.load(bundle, threads=1)
        batcher = attach_batcher(batched, workers=2, max_tokens=512, max_wait_s=0.05, busy=lambda: 4)
        assert batcher is not None and batcher.merge is invariant
        try:
            with ThreadPoolExecutor(4) as pool:
                got = list(pool.map(batched.analyze, texts))
            assert batcher.stats.calls > 0
            assert (batcher.stats.shared_calls > 0) is invariant, bundle
            for want, have in zip(expected, got, strict=True):
                assert have["spans"] == want["spans"] and have["document"] == want["document"], bundle
        finally:
            batcher.close()
