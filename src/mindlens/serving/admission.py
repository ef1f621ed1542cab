"""Admission control for analyses: at most ``capacity`` run at once, at most ``queue`` wait,
and none waits longer than ``max_wait_s``; anything beyond is refused at once.

Why: analyses share two cores. Without a bound, 200 concurrent requests each wait behind
all the others (a 12 s answer for every one of them) and memory grows with the backlog;
with it, the requests the server can serve get their usual latency and the rest get a fast
503 with ``Retry-After`` that a client or a load balancer can act on. A batch costs its size
(at most the whole capacity). ``/healthz`` and ``/metrics`` never pass through here, so
they answer while analyses queue. The API and the demo share one controller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class OverloadedError(RuntimeError):
    """The server is at capacity; the client should retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Admission:
    def __init__(self, capacity: int, queue: int, max_wait_s: float) -> None:
        if capacity < 1 or queue < 0 or max_wait_s <= 0:
            raise ValueError("admission needs capacity >= 1, queue >= 0 and max_wait_s > 0")
        self.capacity, self.queue, self.max_wait_s = capacity, queue, max_wait_s
        self.running = 0  # cost of the analyses running now
        self.waiting = 0  # cost of the analyses waiting for a slot
        self._changed = threading.Condition()

    def _refuse(self, why: str) -> OverloadedError:
        return OverloadedError(
            f"server busy ({why}): {self.running} running, {self.waiting} waiting; retry shortly",
            retry_after_s=max(1, round(self.max_wait_s / 2)),
        )

    @contextmanager
    def admit(self, cost: int = 1) -> Iterator[None]:
        """Hold ``cost`` slots while the block runs; raises ``OverloadedError`` at once when
        the queue is full, or after ``max_wait_s`` without a free slot."""
        cost = min(max(cost, 1), self.capacity)
        with self._changed:
            if self.running + cost > self.capacity:
                if self.waiting + cost > self.queue:
                    raise self._refuse("queue full")
                self.waiting += cost
                deadline = time.monotonic() + self.max_wait_s
                try:
                    while self.running + cost > self.capacity:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise self._refuse(f"no free slot within {self.max_wait_s:g} s")
                        self._changed.wait(left)
                finally:
                    self.waiting -= cost
            self.running += cost
        try:
            yield
        finally:
            with self._changed:
                self.running -= cost
                self._changed.notify_all()
