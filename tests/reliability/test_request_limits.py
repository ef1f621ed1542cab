"""Per-client limits and the request deadline of analyses: one address over
``serving.analyze_rate_limit_per_minute`` texts gets 429 with Retry-After (a batch counts its
texts) while another address is served; a batch estimated to run past ``serving.max_request_s``
is refused up front (413), one that runs past it stops between texts (503 + Retry-After); and
admission refuses at once when the queue ahead would outlast half of ``max_queue_wait_s``."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from mindlens.serving.admission import Admission, OverloadedError
from reliability.faults import FakeAnalyzer, FolderRegistry, errors_total

pytestmark = pytest.mark.reliability


def test_one_address_over_its_analysis_budget_gets_429_others_are_served(
    registry: FolderRegistry, client_for: Any
) -> None:
    registry.register("1")
    client = client_for(analyze_rate_limit_per_minute=4)
    assert client.post("/analyze", json={"text": "One."}).status_code == 200
    assert client.post("/analyze/batch", json={"texts": ["Two.", "Three."]}).status_code == 200
    assert client.post("/analyze", json={"text": "Four."}).status_code == 200
    refused = client.post("/analyze", json={"text": "Five."}, headers={"X-Request-ID": "greedy-1"})
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-Request-ID"] == "greedy-1"
    assert "too many analysis requests from this address" in refused.json()["detail"]
    assert client.post("/analyze/batch", json={"texts": ["Six."]}).status_code == 429
    assert errors_total(client, "rate_limited") == 2
    assert client.get("/healthz").status_code == 200  # never limited

    other = client.app.state.analysis  # another address: its own budget
    assert other.analyze("Calm words.", client="10.0.0.7")["sentences"]
    schema = client.get("/openapi.json").json()["paths"]["/analyze"]["post"]["responses"]
    assert "429" in schema


def test_the_default_limit_does_not_trip_an_ordinary_client(
    registry: FolderRegistry, client_for: Any
) -> None:
    registry.register("1")
    client = client_for()
    assert client.app.state.settings.serving.analyze_rate_limit_per_minute >= 300
    assert all(client.post("/analyze", json={"text": f"Text {i}."}).status_code == 200 for i in range(40))


def test_a_batch_estimated_past_the_deadline_is_refused_up_front(
    registry: FolderRegistry, client_for: Any
) -> None:
    registry.register("1")
    client = client_for(max_request_s=1)
    analysis = client.app.state.analysis
    long_text = "A long and calm report about the weather. " * 60  # >= 2000 characters: it teaches
    assert client.post("/analyze", json={"text": long_text}).status_code == 200
    assert analysis.seconds_per_char is not None and analysis.seconds_per_char > 0
    analysis.seconds_per_char = 1e-3  # as if the model took 1 s per 1000 characters
    too_slow = client.post("/analyze/batch", json={"texts": [long_text, long_text]})
    assert too_slow.status_code == 413, too_slow.text
    assert "over the 1 s limit of a request" in too_slow.json()["detail"]
    assert client.post("/analyze/batch", json={"texts": ["Short.", "Also short."]}).status_code == 200


def test_a_batch_that_runs_past_the_deadline_stops_between_texts(
    registry: FolderRegistry, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register("1")
    client = client_for(max_request_s=0.5)
    analyzed: list[str] = []
    real = FakeAnalyzer.analyze

    def slow(self: FakeAnalyzer, text: str, **kwargs: Any) -> dict[str, Any]:
        time.sleep(0.3)
        analyzed.append(text)
        return real(self, text, **kwargs)

    monkeypatch.setattr(FakeAnalyzer, "analyze", slow)
    answer = client.post("/analyze/batch", json={"texts": ["One.", "Two.", "Three.", "Four.", "Five."]})
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) >= 1
    assert "ran past the 0.5 s limit of a request after 2 of 5 texts" in answer.json()["detail"]
    assert analyzed == ["One.", "Two."]  # stopped: the rest never ran
    assert errors_total(client, "deadline") == 1
    assert client.app.state.analysis.admission.running == 0  # its slots are free again


def test_admission_refuses_at_once_when_the_queue_would_outlast_the_longest_wait() -> None:
    admission = Admission(capacity=1, queue=10, max_wait_s=2.0)
    with admission.admit():
        time.sleep(0.4)  # one analysis held its slot 0.4 s: the measured pace
    assert admission.service_s is not None and admission.service_s >= 0.35
    release = threading.Event()

    def hold() -> None:
        with admission.admit():
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    while admission.running == 0:
        time.sleep(0.01)
    waiters = [threading.Thread(target=hold) for _ in range(2)]  # 2 x 0.4 s <= 2 s / 2: they may wait
    for waiter in waiters:
        waiter.start()
    while admission.waiting < 2:
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(OverloadedError, match="the queue would take about 1 s"):
        with admission.admit():  # a third would wait ~1.2 s > 2 s / 2: refused now, not after 2 s
            pass
    assert time.monotonic() - started < 0.2
    release.set()
    for thread in [holder, *waiters]:
        thread.join(timeout=10)
    assert admission.running == 0 and admission.waiting == 0


def test_the_estimate_counts_each_analysis_by_its_own_length() -> None:
    """Short analyses set the average, but a long text waiting ahead is counted as long: the
    newcomer behind it is refused at once instead of timing out after the longest wait."""
    admission = Admission(capacity=1, queue=10, max_wait_s=2.0)
    with admission.admit(work_s=0.05):
        time.sleep(0.05)
    release = threading.Event()

    def hold(work_s: float) -> None:
        with admission.admit(work_s=work_s):
            release.wait(5)

    threads = [threading.Thread(target=hold, args=(0.05,)), threading.Thread(target=hold, args=(5.0,))]
    threads[0].start()
    while admission.running == 0:
        time.sleep(0.01)
    threads[1].start()  # a long article: queued (nothing much ahead of it)
    while admission.waiting == 0:
        time.sleep(0.01)
    assert (admission.waiting + 1) * (admission.service_s or 0) < 1.0  # by count it would be admitted
    started = time.monotonic()
    with pytest.raises(OverloadedError, match="the queue would take about 5 s"):
        with admission.admit(work_s=0.05):
            pass
    assert time.monotonic() - started < 0.2
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert admission.running == 0 and admission.waiting == 0 and admission.expected_wait_s() == 0
