"""Every error the API answers, in one table: domain exception -> status code, the
``ErrorResponse`` body (``{"detail": ...}``), headers and the ``mindlens_errors_total{type}``
label it is counted under.

Routes and services raise domain exceptions and never build error responses themselves;
``install`` registers one handler for all of them, plus request validation (422 with a
readable summary) and anything unexpected (500, logged, no stack trace to the client).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindlens.feedback.service import FeedbackMismatchError, FeedbackTooLargeError
from mindlens.feedback.store import FeedbackConflictError, FeedbackUnavailableError
from mindlens.preprocessing.hygiene import BadTextError
from mindlens.serving.admission import DeadlineExceededError, OverloadedError
from mindlens.serving.analysis import BatchTooLargeError, TextTooLongError
from mindlens.serving.model_store import NoModelError
from mindlens.serving.rate_limit import RateLimitedError
from mindlens.serving.schemas import ErrorResponse, ValidationErrorResponse
from mindlens.serving.url_source import NotHtmlError, PageTooLargeError, UrlSourceError

log = logging.getLogger(__name__)

FEEDBACK_UNAVAILABLE = (
    "the feedback store is unavailable right now; nothing was stored, please try again later"
)


# --- errors of the HTTP layer itself -----------------------------------------------------
class MissingAPIKeyError(PermissionError):
    """An admin route without the ``X-API-Key`` header (when an admin token is set)."""


class InvalidAPIKeyError(PermissionError):
    """An admin route with a wrong ``X-API-Key``."""


class AdminDisabledError(PermissionError):
    """An admin route on a server with no admin token: closed to everyone (secure by default)."""


class NotReadyError(LookupError):
    """``/readyz`` before a model is loaded (not counted as an error: probes ask early)."""


class FeedbackNotFoundError(LookupError):
    """No stored feedback with this id."""

    def __init__(self, feedback_id: int) -> None:
        super().__init__(f"no feedback with id {feedback_id}")


# --- the mapping -------------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorRule:
    status: int
    metric: str | None  # mindlens_errors_total{type=...}; None: not counted
    detail: str | None = None  # a fixed message instead of str(exc), to hide internals
    headers: Callable[[Any], dict[str, str]] | None = None


RULES: dict[type[Exception], ErrorRule] = {
    TextTooLongError: ErrorRule(413, "payload_too_large"),
    BadTextError: ErrorRule(422, "validation"),
    # POST /analyze with a url: the page is too large, not HTML, or could not be used (bad or
    # disallowed URL, unreachable, timed out, no article); the message says which
    UrlSourceError: ErrorRule(422, "url_source"),
    PageTooLargeError: ErrorRule(413, "payload_too_large"),
    NotHtmlError: ErrorRule(415, "url_source"),
    BatchTooLargeError: ErrorRule(413, "payload_too_large"),
    NoModelError: ErrorRule(503, "no_model"),
    NotReadyError: ErrorRule(503, None),
    FeedbackTooLargeError: ErrorRule(413, "payload_too_large"),
    FeedbackMismatchError: ErrorRule(422, "validation"),
    FeedbackConflictError: ErrorRule(409, "feedback_conflict"),
    FeedbackUnavailableError: ErrorRule(
        503, "feedback_unavailable", FEEDBACK_UNAVAILABLE, lambda _: {"Retry-After": "30"}
    ),
    FeedbackNotFoundError: ErrorRule(404, None),
    RateLimitedError: ErrorRule(
        429, "rate_limited", headers=lambda err: {"Retry-After": err.retry_after_header}
    ),
    OverloadedError: ErrorRule(
        503, "overloaded", headers=lambda err: {"Retry-After": str(err.retry_after_s)}
    ),
    DeadlineExceededError: ErrorRule(
        503, "deadline", headers=lambda err: {"Retry-After": str(err.retry_after_s)}
    ),
    MissingAPIKeyError: ErrorRule(401, "unauthorized", headers=lambda _: {"WWW-Authenticate": "ApiKey"}),
    InvalidAPIKeyError: ErrorRule(403, "forbidden"),
    AdminDisabledError: ErrorRule(403, "forbidden"),
}


def rule_for(exc: BaseException) -> ErrorRule | None:
    """The rule of ``exc``'s class or its nearest mapped base class."""
    for cls in type(exc).__mro__:
        rule = RULES.get(cls)
        if rule is not None:
            return rule
    return None


def public_message(exc: BaseException) -> str:
    """What the client is told about ``exc`` (the API's ``detail``; the demo shows the same)."""
    rule = rule_for(exc)
    return rule.detail if rule is not None and rule.detail else str(exc)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` documenting these error codes with their body (422: the
    ``ValidationErrorResponse``, every other code: ``ErrorResponse``)."""
    return {code: {"model": ValidationErrorResponse if code == 422 else ErrorResponse} for code in codes}


# --- request validation --------------------------------------------------------------------
def _loc(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def summarise(errors: Iterable[dict[str, Any]]) -> str:
    """Pydantic errors as one readable line (``field: message; ...``)."""
    messages = []
    for err in errors:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "")
            messages.append(
                f"request body is not valid JSON ({reason})" if reason else "request body is not valid JSON"
            )
        else:
            messages.append(f"{_loc(err.get('loc', ()))}: {err.get('msg', 'invalid')}")
    return "; ".join(messages) or "invalid request"


# --- handlers --------------------------------------------------------------------------------
def _count(request: Request, kind: str) -> None:
    request.app.state.metrics.errors.labels(type=kind).inc()


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    rule = rule_for(exc)
    if rule is None:  # registered for RULES' classes only
        return await _unhandled(request, exc)
    if rule.metric is not None:
        _count(request, rule.metric)
    body = ErrorResponse(detail=public_message(exc)).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=rule.status, headers=rule.headers(exc) if rule.headers else None)


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    _count(request, "validation")
    errors = [
        {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()
    ]
    return JSONResponse(
        status_code=422, content=jsonable_encoder({"detail": summarise(exc.errors()), "errors": errors})
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    _count(request, "unhandled")
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


class UnhandledErrorMiddleware:
    """Turns an exception no handler took into the 500 of ``_unhandled`` *inside* the request-id
    middleware, so the 500 carries ``X-Request-ID`` and its log line the request id (Starlette's
    own last-resort handler runs outside every middleware, after the id is gone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started:  # too late for a clean answer: let the server close the connection
                raise
            response = await _unhandled(Request(scope, receive), exc)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers (``app.state.metrics`` counts the errors)."""
    for cls in RULES:
        app.add_exception_handler(cls, _domain_error)
    # Starlette types every handler as taking a bare Exception, so a handler for one
    # exception class does not match its signature (the stubs, not this code).
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unhandled)
