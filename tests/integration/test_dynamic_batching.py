"""The served champion runs through the dynamic batcher: concurrent ``/analyze`` requests share
network calls, each answer is the one the text gets alone, and ``/metrics`` shows the batches.
A real app over a registry bootstrapped with the newest shipped release (V2.1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

pytest.importorskip("onnxruntime")

TEXTS = [
    "These traitors will stop at nothing to destroy our great nation!",
    "Shares closed slightly higher on Tuesday after a quiet session.",
    "Either you are with us, or you are with the terrorists. Freedom, freedom, freedom!",
    "Is he really the man he claims to be? Everyone knows the corrupt elite lies to you.",
    "The new bridge is 400 metres long and opens next spring, the council said.",
    "Unemployment rose because immigrants took all the jobs, the pamphlet claimed.",
] * 3


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from mindlens.config import Settings
    from mindlens.registry import bootstrap_releases
    from mindlens.serving.app import create_app
    from mindlens.training.release import SHIPPED

    state: Path = tmp_path_factory.mktemp("batching-state")
    bootstrap_releases(Settings(state_dir=state), [SHIPPED])
    settings = Settings(
        state_dir=state,
        serving={  # type: ignore[arg-type]
            "max_concurrent_analyses": 6,
            "analyze_rate_limit_per_minute": 0,
            "batch_max_wait_ms": 50,  # generous, so the concurrent requests below surely meet
            "prediction_log": False,
        },
    )
    with TestClient(create_app(settings, with_ui=False)) as test_client:
        yield test_client


def _spans(answer: dict) -> list[tuple[int, int, str, float]]:
    return [(s["start"], s["end"], s["technique"], s["confidence"]) for s in answer["spans"]]


def test_concurrent_requests_share_calls_and_answer_as_alone(client: TestClient) -> None:
    store = client.app.state.analysis.store  # type: ignore[attr-defined]
    batcher = store.require().batcher
    assert batcher is not None and batcher.merge  # V2.1's graph is batch-invariant
    alone = [client.post("/analyze", json={"text": text}).json() for text in TEXTS[:6]]
    shared_before = batcher.stats.shared_calls
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(lambda t: client.post("/analyze", json={"text": t}).json(), TEXTS))
    assert batcher.stats.shared_calls > shared_before  # requests met in one network call
    for k, answer in enumerate(together):
        assert _spans(answer) == _spans(alone[k % 6]), TEXTS[k]
        assert answer["document"] == alone[k % 6]["document"]
    metrics = client.get("/metrics").text
    counts = re.search(r"^mindlens_inference_batch_requests_count (\S+)$", metrics, re.M)
    assert counts is not None and float(counts.group(1)) >= batcher.stats.calls
    assert re.search(r'^mindlens_inference_batch_requests_bucket\{le="1.0"\} (\S+)$', metrics, re.M)
