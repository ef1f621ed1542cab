"""The API over real HTTP against ``mindlens serve``: happy path, 4xx for bad input, ops."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow

TEXT = (
    "The so-called experts, those globalist puppets, got it wrong again. "
    "If we do nothing, our children will grow up in a country ruled by criminals.\n\n"
    "The committee will publish its report on Tuesday. Make our streets safe again!"
)
ADMIN = {"X-API-Key": "test-admin-token"}  # set by the live_server fixture


@pytest.fixture(scope="module")
def api(live_server: str):
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client


def _assert_clean_4xx(response: httpx.Response, status: int, *needles: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str) and "Traceback" not in response.text
    for needle in needles:
        assert needle in body["detail"], body["detail"]
    return body


def test_analyze_happy_path(api: httpx.Client) -> None:
    response = api.post("/analyze", json={"text": TEXT, "min_confidence": 0.1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["version"] and body["model"]["name"]
    assert len(body["sentences"]) >= 4
    for sentence in body["sentences"]:
        assert TEXT[sentence["start"] : sentence["end"]] == sentence["text"]
        for hit in sentence["techniques"]:
            assert hit["confidence"] >= 0.1
    assert body["min_confidence"] == 0.1
    assert set(body["document"]) == {"score", "techniques", "traits"}
    assert body["timings_ms"]["total"] >= body["timings_ms"]["model"]
    assert body["spans"], "threshold 0.1 should flag some fragment"
    for span in body["spans"]:
        assert TEXT[span["start"] : span["end"]] == span["text"]
        assert span["confidence"] >= 0.1 and span["trait"]
    clickbait = body["title"]["clickbait"]  # null: the test champion has no clickbait model
    assert body["title"]["text"] and (clickbait is None or 0.0 <= clickbait <= 1.0)


def test_empty_text_is_422(api: httpx.Client) -> None:
    body = _assert_clean_4xx(api.post("/analyze", json={"text": ""}), 422, "text", "empty")
    assert body["errors"][0]["loc"] == ["body", "text"]


def test_whitespace_text_is_422(api: httpx.Client) -> None:
    _assert_clean_4xx(api.post("/analyze", json={"text": " \n\t "}), 422, "whitespace")


def test_malformed_json_is_422(api: httpx.Client) -> None:
    response = api.post(
        "/analyze", content=b'{"text": "unterminated', headers={"Content-Type": "application/json"}
    )
    _assert_clean_4xx(response, 422, "not valid JSON")


@pytest.mark.parametrize(
    "payload,needle",
    [
        ({"text": 42}, "text"),
        ({"text": ["a", "b"]}, "text"),
        ({"text": "Fine text.", "min_confidence": "high"}, "min_confidence"),
        ({"text": "Fine text.", "min_confidence": 1.5}, "min_confidence"),
        ({"message": "wrong field"}, "text"),
        (["not", "an", "object"], "body"),
    ],
)
def test_wrong_types_are_422(api: httpx.Client, payload: object, needle: str) -> None:
    _assert_clean_4xx(api.post("/analyze", json=payload), 422, needle)


def test_too_long_is_413(api: httpx.Client) -> None:
    text = "Word. " * 1000  # 6000 characters, the fixture's limit is 5000
    _assert_clean_4xx(api.post("/analyze", json={"text": text}), 413, "5000", str(len(text)))


def test_healthz(api: httpx.Client) -> None:
    body = api.get("/healthz").json()
    assert body["status"] == "ok" and body["version"] and body["model"]["version"] == body["version"]


def test_metrics_after_requests(api: httpx.Client) -> None:
    api.post("/analyze", json={"text": TEXT, "min_confidence": 0.0})  # flags every sentence
    api.post("/analyze", json={"text": ""})
    response = api.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'mindlens_requests_total{endpoint="/analyze",method="POST",status="200"}' in text
    assert 'mindlens_requests_total{endpoint="/analyze",method="POST",status="422"}' in text
    assert "mindlens_predicted_techniques_total{technique=" in text
    assert 'mindlens_request_latency_seconds_bucket{endpoint="/analyze"' in text
    assert "mindlens_model_info{name=" in text
    assert 'mindlens_errors_total{type="validation"}' in text
    assert 'status="500"' not in text  # no bad input above turned into a server error


def test_admin_reload_needs_key(api: httpx.Client) -> None:
    _assert_clean_4xx(api.post("/admin/reload"), 401, "X-API-Key")
    _assert_clean_4xx(api.post("/admin/reload", headers={"X-API-Key": "nope"}), 403)
    response = api.post("/admin/reload", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reloaded"] is False  # the champion is already served
    assert body["version"] == api.get("/healthz").json()["version"]


def test_openapi_and_docs(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()
    assert "/analyze" in schema["paths"]
    assert api.get("/docs").status_code == 200


def test_request_id_is_echoed_or_made(api: httpx.Client) -> None:
    given = api.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    made = api.post("/analyze", json={"text": ""})
    assert len(made.headers["x-request-id"]) == 32  # a new id, also on errors
    bad = api.get("/healthz", headers={"X-Request-ID": "not valid!" * 20})
    assert bad.headers["x-request-id"] != "not valid!" * 20


def test_batch_techniques_version_readyz(api: httpx.Client) -> None:
    batch = api.post("/analyze/batch", json={"texts": [TEXT, "Calm news."], "min_confidence": 0.2})
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert len(results) == 2 and results[1]["sentences"][0]["text"] == "Calm news."
    _assert_clean_4xx(api.post("/analyze/batch", json={"texts": []}), 422, "texts")
    _assert_clean_4xx(api.post("/analyze/batch", json={"texts": ["ok", " "]}), 422, "empty")
    techniques = api.get("/techniques").json()
    assert {t["id"] for t in techniques} >= {"loaded_language", "clickbait"}
    assert all(t["definition"] and t["example"] and t["trait_name"] for t in techniques)
    version = api.get("/version").json()
    assert version["app"] and version["model"]["version"]
    assert api.get("/readyz").status_code == 200


def test_prediction_log_joins_on_request_id_and_keeps_no_raw_text(api: httpx.Client) -> None:
    import hashlib
    import json
    import os
    import time
    from pathlib import Path

    response = api.post("/analyze", json={"text": TEXT}, headers={"X-Request-ID": "pred-log-1"})
    assert response.status_code == 200
    log = Path(os.environ["MINDLENS_STATE_DIR"]) / "predictions" / "predictions.jsonl"
    mine: list[dict] = []
    for _ in range(100):  # written off the request path, moments after the answer
        entries = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
        mine = [e for e in entries if e["request_id"] == "pred-log-1"]
        if mine:
            break
        time.sleep(0.05)
    assert len(mine) == 1
    entry = mine[0]
    assert entry["text_sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()
    assert "text" not in entry and TEXT not in log.read_text()  # hash by default, no raw text
    assert entry["model"]["version"] == response.json()["model"]["version"]
    assert entry["latency_ms"] > 0


def test_fragments_inside_quotes_name_the_speaker(api: httpx.Client) -> None:
    text = '"They are traitors and liars, all of them!" the senator said. The vote is on Tuesday.'
    response = api.post("/analyze", json={"text": text, "min_confidence": 0.0})
    assert response.status_code == 200, response.text
    spans = response.json()["spans"]
    assert spans
    for span in spans:
        inside = span["start"] < text.index('!"')  # the first sentence is mostly the quote
        assert span["quoted"] is inside, span
        assert span["speaker"] == ("the senator" if inside else None), span
