"""A request id on every response (``X-Request-ID``) and in every log line of that request.

A caller's id is kept when it is a sane token (so a trace can span services);
otherwise a new one is made. Log records get ``request_id`` through a filter.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# When the request arrived (perf_counter), so the access-log line can carry its duration.
started: contextvars.ContextVar[float | None] = contextvars.ContextVar("request_started", default=None)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(HEADER.encode(), b"").decode("latin-1")
        request_id = given if _VALID.match(given) else uuid.uuid4().hex
        token = current.set(request_id)
        start_token = started.set(time.perf_counter())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER.encode()]
                message["headers"] = headers + [(HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current.reset(token)
            started.reset(start_token)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) for log formats to use."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True
