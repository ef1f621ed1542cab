"""One character must not crash it: lone surrogates and control characters are refused with a
clear 422 on every text field of every endpoint and in the demo, by one rule; every error
response, a 500 included, carries X-Request-ID."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from mindlens.preprocessing.hygiene import text_problem
from reliability.faults import FolderRegistry, errors_total, settings_for

pytestmark = pytest.mark.reliability

HOSTILE = {
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
    "NUL": "\x00",
    "escape": "\x1b",
    "DEL": "\x7f",
    "C1 next line": "\x85",
}


def _feedback(text: str, comment: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"client_id": "hostile-1", "text": text, "judgement": "unsure"}
    if comment is not None:
        body["comment"] = comment
    return body


# (endpoint, body builder, field the message names)
FIELDS = [
    ("/analyze", lambda bad: {"text": f"Fine words {bad} here."}, "text"),
    ("/analyze", lambda bad: {"text": "Fine words.", "title": f"Head{bad}line"}, "title"),
    ("/analyze/batch", lambda bad: {"texts": ["Fine.", f"Bad {bad}."]}, "texts.1"),
    ("/feedback", lambda bad: _feedback(f"Fine words {bad} here."), "text"),
    ("/feedback", lambda bad: _feedback("Fine words.", comment=f"A {bad} comment"), "comment"),
]


def _raw(body: dict[str, Any]) -> bytes:
    """JSON with \\uXXXX escapes, as a hostile client sends a lone surrogate."""
    return json.dumps(body, ensure_ascii=True).encode()


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize(("endpoint", "build", "field"), FIELDS)
def test_every_text_field_refuses_it_with_a_clear_422(
    registry: FolderRegistry, client_for, endpoint: str, build, field: str, name: str
) -> None:
    registry.register("1")
    client = client_for()
    answer = client.post(
        endpoint, content=_raw(build(HOSTILE[name])), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["x-request-id"]
    body = answer.json()
    assert field in body["detail"] and f"U+{ord(HOSTILE[name]):04X}" in body["detail"]
    assert body["errors"] and body["errors"][0]["type"] == "bad_character"


def test_allowed_whitespace_and_paired_surrogates_pass(registry: FolderRegistry, client_for) -> None:
    registry.register("1")
    client = client_for()
    text = "Tabs\tnewlines\nreturns\r and an emoji \U0001f600 are fine."
    answer = client.post(
        "/analyze", content=_raw({"text": text}), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    assert text_problem(text) is None


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_demo_refuses_it_with_the_same_message(tmp_path, registry: FolderRegistry, name: str) -> None:
    from mindlens.feedback.service import FeedbackService
    from mindlens.serving.analysis import AnalysisService
    from mindlens.serving.model_store import ModelStore
    from mindlens.serving.plugins import ServingContext
    from mindlens_demo.service import DemoService

    registry.register("1")
    settings = settings_for(tmp_path)
    store = ModelStore(settings)
    store.reload()
    feedback = FeedbackService(settings)
    service = DemoService(ServingContext(settings, AnalysisService(store, settings), feedback))
    bad = f"Fine words {HOSTILE[name]} here."
    with pytest.raises(ValueError) as analysed:
        service.analyze(bad, 0.5)
    with pytest.raises(ValueError) as sent:
        service.submit_feedback(_feedback(bad))
    assert str(analysed.value) == text_problem(bad, "text")
    assert text_problem(bad, "text") in str(sent.value)
    feedback.close()


def test_min_confidence_must_be_a_number(registry: FolderRegistry, client_for) -> None:
    registry.register("1")
    client = client_for()
    for value in (False, True, "0.5"):
        answer = client.post("/analyze", json={"text": "Fine.", "min_confidence": value})
        assert answer.status_code == 422, (value, answer.text)
    assert client.post("/analyze", json={"text": "Fine.", "min_confidence": 1}).status_code == 200


def test_a_500_carries_the_request_id_and_its_log_line_too(
    registry: FolderRegistry, client_for, caplog: pytest.LogCaptureFixture
) -> None:
    from mindlens.serving.request_id import RequestIdFilter

    registry.register("1")
    client = client_for()
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.ERROR):
        answer = client.post("/analyze", json={"text": "boom"}, headers={"X-Request-ID": "boom-1"})
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal server error"}
    assert answer.headers["x-request-id"] == "boom-1"
    assert "a bug deep inside" not in answer.text
    records = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    assert records and records[0].request_id == "boom-1"
    assert errors_total(client, "unhandled") == 1
    assert 'status="500"' in client.get("/metrics").text


def test_the_openapi_schema_states_the_limits_and_error_shapes(registry: FolderRegistry, client_for) -> None:
    registry.register("1")
    client = client_for(max_text_chars=300, max_batch_texts=4)
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["AnalyzeRequest"]["properties"]["text"]["maxLength"] == 300
    assert components["BatchRequest"]["properties"]["texts"]["maxItems"] == 4
    assert "surrogate" in components["AnalyzeRequest"]["properties"]["text"]["description"]
    assert "loaded_language" in components["Correction"]["properties"]["technique"]["enum"]
    analyze = schema["paths"]["/analyze"]["post"]["responses"]
    assert analyze["422"]["content"]["application/json"]["schema"]["$ref"].endswith("ValidationErrorResponse")
    for code in ("400", "413", "500", "503"):
        assert analyze[code]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse"), code
    assert "X-Request-ID" in analyze["200"]["headers"]
    assert "HTTPValidationError" not in components
