"""Per-client-address rate limits (429): ``POST /feedback`` and the demo's feedback
(``feedback.rate_limit_per_minute``), and analyses (``/analyze``, ``/analyze/batch``:
``serving.analyze_rate_limit_per_minute`` texts, a batch counting its texts).

Why per address on top of admission control: admission bounds the server's total work, but
one client sending as fast as it can would take every slot and leave everyone else 503s;
its own 429 tells that client alone to slow down. A moving window from the ``limits``
library on its in-memory storage: at most ``per_minute`` units from one address in any 60 seconds. A refused request is told
when the oldest request in its window expires (the ``Retry-After`` seconds). In memory,
like the model store and the metrics: one process serves (see ``server.py``).
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request


class RateLimitedError(Exception):
    """Too many requests from one client address (429 with ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def retry_after_header(self) -> str:
        return str(max(1, round(self.retry_after_s)))


class RateLimiter:
    """``per_minute`` requests per client address in any minute (0: no limit)."""

    def __init__(self, per_minute: int, scope: str = "requests") -> None:
        self.per_minute = per_minute
        self.scope = scope
        self._item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage()) if self._item is not None else None

    def retry_after(self, client: str, cost: int = 1) -> float:
        """0 if the request may go ahead (and is counted, ``cost`` units), else seconds until it may."""
        if self._item is None or self._limiter is None:
            return 0.0
        if self._limiter.hit(self._item, self.scope, client, cost=min(max(cost, 1), self.per_minute)):
            return 0.0
        reset_at, _ = self._limiter.get_window_stats(self._item, self.scope, client)
        return max(reset_at - time.time(), 0.001)  # refused: never 0, which means go ahead

    def check(self, client: str, cost: int = 1) -> None:
        """Count the request (``cost`` units: a batch's texts); RateLimitedError when ``client``
        is over the limit."""
        wait = self.retry_after(client, cost)
        if wait > 0:
            raise RateLimitedError(
                f"too many {self.scope} requests from this address; retry in {wait:.0f} s", wait
            )


def client_address(request: Request) -> str:
    """The address a request's limits count against (the peer; ``unknown`` without one)."""
    return request.client.host if request.client else "unknown"
