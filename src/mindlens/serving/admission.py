"""Admission control for analyses: at most ``capacity`` run at once, at most ``queue`` wait,
and none waits longer than ``max_wait_s``; anything beyond is refused at once.

Why: analyses share two cores. Without a bound, 200 concurrent requests each wait behind
all the others (a 12 s answer for every one of them) and memory grows with the backlog;
with it, the requests the server can serve get their usual latency and the rest get a fast
503 with ``Retry-After`` that a client or a load balancer can act on. A request is refused
at once, not after a futile wait, when the work ahead of it would take more than half of
``max_wait_s``: each analysis is estimated from its text's length (the caller's measured
seconds per character) or else the average time an analysis holds its slot; the margin covers
the estimate's error, so the hard bound rarely has to act.
A batch costs its size (at most the whole capacity). ``/healthz`` and ``/metrics`` never pass through here, so
they answer while analyses queue. The API and the demo share one controller.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# admit a waiter only when the queue ahead should drain within this share of max_wait_s
ESTIMATE_MARGIN = 0.5


class OverloadedError(RuntimeError):
    """The server is at capacity; the client should retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DeadlineExceededError(OverloadedError):
    """A request's analyses ran past ``serving.max_request_s`` (stopped between texts)."""


class Admission:
    def __init__(self, capacity: int, queue: int, max_wait_s: float) -> None:
        if capacity < 1 or queue < 0 or max_wait_s <= 0:
            raise ValueError("admission needs capacity >= 1, queue >= 0 and max_wait_s > 0")
        self.capacity, self.queue, self.max_wait_s = capacity, queue, max_wait_s
        self.running = 0  # cost of the analyses running now
        self.waiting = 0  # cost of the analyses waiting for a slot
        self.service_s: float | None = None  # moving average of the seconds one cost unit holds a slot
        self._queued_work_s = 0.0  # estimated slot-seconds of the analyses waiting
        self._running_work: dict[int, tuple[float, float, int]] = {}  # admitted: (started, seconds, cost)
        self._keys = itertools.count()
        self._changed = threading.Condition()

    def _wall_s(self, work_s: float | None) -> float:
        """An analysis' estimated seconds: the caller's (from its text's length) or the average."""
        if work_s is not None:
            return work_s
        return 0.0 if self.service_s is None else self.service_s

    def expected_wait_s(self) -> float:
        """Seconds until the work ahead of a newcomer is done (0 while nothing has been
        measured): what is left of the running analyses and all the waiting ones, spread over
        the ``capacity`` slots."""
        if self.service_s is None:
            return 0.0
        now = time.monotonic()
        left = sum(
            max(wall - (now - started), 0.0) * cost for started, wall, cost in self._running_work.values()
        )
        return (left + self._queued_work_s) / self.capacity

    def _refuse(self, why: str) -> OverloadedError:
        return OverloadedError(
            f"server busy ({why}): {self.running} running, {self.waiting} waiting; retry shortly",
            retry_after_s=max(1, round(self.max_wait_s / 2)),
        )

    @contextmanager
    def admit(self, cost: int = 1, work_s: float | None = None) -> Iterator[None]:
        """Hold ``cost`` slots while the block runs (``work_s``: its estimated seconds, when the
        caller knows them); raises ``OverloadedError`` at once when the queue is full or would
        take too long, or after ``max_wait_s`` without a free slot."""
        cost = min(max(cost, 1), self.capacity)
        with self._changed:
            wall = self._wall_s(work_s)
            work = wall * cost  # slot-seconds
            if self.running + cost > self.capacity:
                if self.waiting + cost > self.queue:
                    raise self._refuse("queue full")
                expected = self.expected_wait_s()
                if expected > self.max_wait_s * ESTIMATE_MARGIN:
                    raise self._refuse(f"the queue would take about {expected:.0f} s")
                self.waiting += cost
                self._queued_work_s += work
                deadline = time.monotonic() + self.max_wait_s
                try:
                    while self.running + cost > self.capacity:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise self._refuse(f"no free slot within {self.max_wait_s:g} s")
                        self._changed.wait(left)
                finally:
                    self.waiting -= cost
                    self._queued_work_s = max(self._queued_work_s - work, 0.0)
            self.running += cost
            started = time.monotonic()
            key = next(self._keys)
            self._running_work[key] = (started, wall, cost)
        try:
            yield
        finally:
            held = (time.monotonic() - started) / cost
            with self._changed:
                self.running -= cost
                del self._running_work[key]
                known = self.service_s
                self.service_s = held if known is None else 0.8 * known + 0.2 * held
                self._changed.notify_all()
