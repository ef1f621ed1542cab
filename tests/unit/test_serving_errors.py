"""``serving.errors``: every domain error answers its status code, an ``ErrorResponse`` body,
its headers, and counts under its ``mindlens_errors_total`` type; validation and bugs too."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from mindlens.feedback.service import FeedbackMismatchError, FeedbackTooLargeError
from mindlens.feedback.store import FeedbackConflictError, FeedbackUnavailableError
from mindlens.preprocessing.hygiene import BadTextError
from mindlens.serving import errors
from mindlens.serving.admission import DeadlineExceededError, OverloadedError
from mindlens.serving.analysis import BatchTooLargeError, TextTooLongError
from mindlens.serving.metrics import Metrics
from mindlens.serving.model_store import NO_MODEL_MESSAGE, NoModelError
from mindlens.serving.rate_limit import RateLimitedError
from mindlens.serving.url_source import NotHtmlError, PageTooLargeError, UrlSourceError, UrlTimeoutError

# (exception, status, body detail, extra headers, mindlens_errors_total type or None)
CASES = [
    (
        TextTooLongError("text is too long: 9 characters received, the limit is 5"),
        413,
        None,
        {},
        "payload_too_large",
    ),
    (BatchTooLargeError("too many texts: 40 received, the limit is 32"), 413, None, {}, "payload_too_large"),
    (NoModelError(NO_MODEL_MESSAGE), 503, NO_MODEL_MESSAGE, {}, "no_model"),
    (errors.NotReadyError(NO_MODEL_MESSAGE), 503, NO_MODEL_MESSAGE, {}, None),
    (FeedbackTooLargeError("comment is too long: 9 characters"), 413, None, {}, "payload_too_large"),
    (FeedbackMismatchError("text does not match the text analysed"), 422, None, {}, "validation"),
    (FeedbackConflictError("c-1", 4), 409, None, {}, "feedback_conflict"),
    (
        FeedbackUnavailableError("OperationalError: psycopg2 could not reach 127.0.0.1:5432"),
        503,
        errors.FEEDBACK_UNAVAILABLE,
        {"retry-after": "30"},
        "feedback_unavailable",
    ),
    (errors.FeedbackNotFoundError(999), 404, "no feedback with id 999", {}, None),
    (
        RateLimitedError("too many feedback requests from this address; retry in 12 s", 12.4),
        429,
        None,
        {"retry-after": "12"},
        "rate_limited",
    ),
    (
        OverloadedError("server busy (queue full): 2 running, 16 waiting; retry shortly", 5),
        503,
        None,
        {"retry-after": "5"},
        "overloaded",
    ),
    (
        DeadlineExceededError("the batch ran past the 30 s limit of a request after 3 of 8 texts", 5),
        503,
        None,
        {"retry-after": "5"},
        "deadline",
    ),
    (
        errors.MissingAPIKeyError("missing X-API-Key header"),
        401,
        None,
        {"www-authenticate": "ApiKey"},
        "unauthorized",
    ),
    (errors.InvalidAPIKeyError("invalid X-API-Key"), 403, None, {}, "forbidden"),
    (errors.AdminDisabledError("admin endpoints are closed"), 403, None, {}, "forbidden"),
    (BadTextError("text contains a control character (U+0000) at position 3"), 422, None, {}, "validation"),
    (UrlSourceError("no article found at http://x/"), 422, None, {}, "url_source"),
    (UrlTimeoutError("fetching the page took longer than 10 s"), 422, None, {}, "url_source"),  # a subclass
    (PageTooLargeError("the page at http://x/ is too large"), 413, None, {}, "payload_too_large"),
    (
        NotHtmlError("http://x/ is not an HTML page (content type application/pdf)"),
        415,
        None,
        {},
        "url_source",
    ),
]


class Body(BaseModel):
    text: str


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.state.metrics = Metrics()
    errors.install(app)

    @app.get("/raise/{index}")
    def raise_case(index: int) -> None:
        raise CASES[index][0]

    @app.post("/validate")
    def validate(body: Body) -> dict:
        return {}

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("a secret stack trace")

    return TestClient(app, raise_server_exceptions=False)


def _errors_total(client: TestClient, kind: str) -> float:
    value = client.app.state.metrics.registry.get_sample_value("mindlens_errors_total", {"type": kind})
    return value or 0.0


def test_every_rule_has_a_case() -> None:
    assert set(errors.RULES) <= {type(case[0]) for case in CASES}  # (and a subclass or two)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[type(c[0]).__name__ for c in CASES])
def test_domain_error_answers_its_status_body_and_headers(client: TestClient, index: int) -> None:
    exc, status, detail, headers, kind = CASES[index]
    before = _errors_total(client, kind) if kind else None
    response = client.get(f"/raise/{index}")
    assert response.status_code == status
    assert response.json() == {"detail": detail or str(exc)}  # ErrorResponse, no "errors": null
    for name, value in headers.items():
        assert response.headers[name] == value
    if kind is not None:
        assert _errors_total(client, kind) == before + 1
    assert errors.public_message(exc) == (detail or str(exc))


def test_an_unavailable_database_never_leaks_its_address(client: TestClient) -> None:
    index = next(i for i, case in enumerate(CASES) if isinstance(case[0], FeedbackUnavailableError))
    text = client.get(f"/raise/{index}").text
    assert "psycopg2" not in text and "127.0.0.1" not in text


def test_subclasses_map_like_their_base() -> None:
    class Outage(FeedbackUnavailableError):
        pass

    assert errors.rule_for(Outage("x")) is errors.RULES[FeedbackUnavailableError]
    assert errors.public_message(Outage("internal")) == errors.FEEDBACK_UNAVAILABLE
    assert errors.rule_for(KeyError("not mapped")) is None
    assert errors.public_message(KeyError("x")) == "'x'"


def test_invalid_request_is_422_with_a_summary_and_the_errors(client: TestClient) -> None:
    before = _errors_total(client, "validation")
    response = client.post("/validate", json={"text": 3})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("text: ") and body["errors"][0]["loc"] == ["body", "text"]
    bad_json = client.post("/validate", content=b'{"text": ', headers={"content-type": "application/json"})
    assert bad_json.status_code == 422 and "not valid JSON" in bad_json.json()["detail"]
    assert _errors_total(client, "validation") == before + 2


def test_a_bug_is_500_without_a_trace(client: TestClient) -> None:
    response = client.get("/bug")
    assert response.status_code == 500 and response.json() == {"detail": "internal server error"}
    assert "secret" not in response.text and _errors_total(client, "unhandled") == 1


def test_summarise_reads_like_the_api() -> None:
    assert errors.summarise([]) == "invalid request"
    assert errors.summarise(
        [{"type": "missing", "loc": ("body", "corrections", 0, "end"), "msg": "Field required"}]
    ) == ("corrections.0.end: Field required")
    assert errors.summarise([{"type": "x", "loc": ("body",), "msg": "bad"}]) == "body: bad"


def test_responses_documents_the_error_body() -> None:
    from mindlens.serving.schemas import ErrorResponse

    assert errors.responses(413, 503) == {413: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}
