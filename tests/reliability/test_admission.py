"""Admission control: a bounded number of analyses run and wait; beyond that a fast 503 with
Retry-After (and the request id), while /healthz keeps answering."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from mindlens.serving.admission import Admission, OverloadedError
from reliability.faults import errors_total

pytestmark = pytest.mark.reliability


def test_full_queue_is_refused_at_once_and_a_freed_slot_admits_the_waiter() -> None:
    admission = Admission(capacity=1, queue=1, max_wait_s=5)
    admitted = threading.Event()
    with admission.admit():

        def wait_for_slot() -> None:
            with admission.admit():
                admitted.set()

        waiter = threading.Thread(target=wait_for_slot)
        waiter.start()
        while admission.waiting == 0:  # the waiter is queued
            time.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(OverloadedError, match="queue full") as refused:
            with admission.admit():
                pass
        assert time.monotonic() - started < 0.5  # refused at once, not after a wait
        assert refused.value.retry_after_s >= 1
        assert not admitted.is_set()
    waiter.join(timeout=5)
    assert admitted.is_set() and admission.running == 0 and admission.waiting == 0


def test_a_waiter_gives_up_after_the_longest_wait() -> None:
    admission = Admission(capacity=1, queue=4, max_wait_s=0.2)
    with admission.admit():
        started = time.monotonic()
        with pytest.raises(OverloadedError, match="no free slot within 0.2 s"):
            with admission.admit():
                pass
        assert 0.15 < time.monotonic() - started < 2
    assert admission.waiting == 0 and admission.running == 0


def test_a_batch_costs_its_size_up_to_the_whole_capacity() -> None:
    admission = Admission(capacity=2, queue=0, max_wait_s=1)
    with admission.admit(32):  # a big batch takes every slot, never more
        assert admission.running == 2
        with pytest.raises(OverloadedError):
            with admission.admit():
                pass
    with admission.admit(1), admission.admit(1):
        assert admission.running == 2


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        Admission(capacity=0, queue=1, max_wait_s=1)


def test_api_answers_503_with_retry_after_while_health_answers(client_for: Any, registry: Any) -> None:
    registry.register("1")
    client = client_for(max_concurrent_analyses=1, max_queued_analyses=0)
    assert client.post("/analyze", json={"text": "A calm sentence."}).status_code == 200
    admission = client.app.state.analysis.admission
    with admission.admit():  # the one slot is busy
        busy = client.post("/analyze", json={"text": "A calm sentence."}, headers={"X-Request-ID": "busy-1"})
        assert busy.status_code == 503
        assert int(busy.headers["Retry-After"]) >= 1 and busy.headers["X-Request-ID"] == "busy-1"
        assert "server busy" in busy.json()["detail"]
        batch = client.post("/analyze/batch", json={"texts": ["One.", "Two."]})
        assert batch.status_code == 503
        assert client.get("/healthz").status_code == 200  # never behind analysis
        assert errors_total(client, "overloaded") == 2
    assert client.post("/analyze", json={"text": "A calm sentence."}).status_code == 200
