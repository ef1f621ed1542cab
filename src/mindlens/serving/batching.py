"""Dynamic batching: the network runs in a few inference workers that gather the windows of
concurrent requests into shared token-budget batches (as Triton and TorchServe do).

Why: analyses used to call ONNX Runtime from each request thread, each call spreading over
every core; two at once oversubscribed the two cores and eight clients got almost nothing
more than one. Here only ``workers`` threads ever run the network, each with
``threads_per_worker`` ORT threads, sized so that ``workers * threads_per_worker`` is the
core count. Request threads still tokenise and decode in parallel (that work overlaps the
network), and a text's windows are split into budget-sized chunks that several workers can
run at once, so one long article also uses every core.

A worker takes the oldest chunk and adds queued chunks of other requests while the padded
batch stays within ``max_tokens`` and ``max_rows``: headlines and sentences from many clients
share one network call instead of paying its fixed cost each. When the head batch is small
and more analyses are running than have submitted work (``busy``), the worker waits up to
``max_wait_s`` for them; a lone request never waits.

Requests share calls only when the graph is batch-invariant (``merge``: V2.1's static
int8, ``tests/unit/test_batch_invariance.py``), so batching changes speed, not results
(``tests/unit/test_batching.py``); a dynamically quantized graph (V1, V2) takes its activation
ranges from the whole batch, so its requests keep to themselves and only get the workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mindlens.models.parallel import usable_cores
from mindlens.models.tagger import TOKEN_BUDGET, TaggerBase, run_batches, window_batches

log = logging.getLogger(__name__)

Window = dict[str, Any]
Row = dict[str, np.ndarray]
# runs windows[i] for i in indices as one padded batch (TaggerBase.forward)
Forward = Callable[[Sequence[Window], Sequence[int]], list[Row]]


@dataclass(eq=False)
class _Job:
    """One caller's windows; done when every chunk has run."""

    windows: list[Window]
    rows: list[Row | None]
    chunks_left: int
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


@dataclass(eq=False)
class _Chunk:
    job: _Job
    indices: list[int]
    longest: int
    queued_at: float

    @property
    def rows(self) -> int:
        return len(self.indices)


class BatcherStats:
    """Counters a test or ``/metrics`` reads: forward calls, windows and requests per call."""

    def __init__(self) -> None:
        self.calls = 0
        self.windows = 0
        self.shared_calls = 0  # calls that held windows of more than one request
        self.max_requests = 0


class WindowBatcher:
    """Run the network over windows from any number of threads through ``workers`` threads.

    ``batcher(windows)`` blocks until every window's outputs are back (in order) and raises
    what the network raised. After ``close()`` calls run in the caller's thread, so a request
    still holding a replaced model finishes."""

    def __init__(
        self,
        forward: Forward,
        *,
        workers: int = 1,
        max_tokens: int = 512,
        max_rows: int = 32,
        max_wait_s: float = 0.002,
        busy: Callable[[], int] | None = None,
        observe: Callable[[int, int, float], None] | None = None,
        merge: bool = True,
        name: str = "mindlens-inference",
    ) -> None:
        if workers < 1 or max_tokens < 1 or max_rows < 1 or max_wait_s < 0:
            raise ValueError("a batcher needs workers, max_tokens and max_rows >= 1 and max_wait_s >= 0")
        self.forward = forward
        self.max_tokens, self.max_rows, self.max_wait_s = max_tokens, max_rows, max_wait_s
        self.busy = busy  # analyses running now (admission), to know whether waiting can pay
        self.observe = observe  # (windows, requests, seconds waited by the oldest) per call
        self.merge = merge  # whether windows of different requests may share a call
        self.stats = BatcherStats()
        self._queue: deque[_Chunk] = deque()
        self._pending_jobs = 0  # submitted and not yet done
        self._closed = False
        self._changed = threading.Condition()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{k}", daemon=True) for k in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def workers(self) -> int:
        return len(self._threads)

    def __call__(self, windows: list[Window]) -> list[Row]:
        if not windows:
            return []
        batches = window_batches(windows, self.max_tokens, self.max_rows)
        job = _Job(windows, [None] * len(windows), len(batches))
        now = time.monotonic()
        with self._changed:
            if self._closed:  # a request still holding a replaced model: in its own thread
                return run_batches(self.forward, windows, batches)
            self._pending_jobs += 1
            for indices in batches:
                longest = max(len(windows[i]["input_ids"]) for i in indices)
                self._queue.append(_Chunk(job, indices, longest, now))
            self._changed.notify_all()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return [row for row in job.rows if row is not None]

    # --- workers ---------------------------------------------------------------------------
    def _tokens(self, chunks: Sequence[_Chunk]) -> int:
        return sum(c.rows for c in chunks) * max((c.longest for c in chunks), default=0)

    def _take(self) -> list[_Chunk]:
        """The oldest chunk and the queued chunks of other requests that fit beside it."""
        head = self._queue.popleft()
        taken, rows, longest = [head], head.rows, head.longest
        for chunk in list(self._queue) if self.merge else ():
            grown = max(longest, chunk.longest)
            if rows + chunk.rows <= self.max_rows and (rows + chunk.rows) * grown <= self.max_tokens:
                self._queue.remove(chunk)
                taken.append(chunk)
                rows, longest = rows + chunk.rows, grown
        return taken

    def _should_wait(self) -> bool:
        """Wait for more work when the queue would not fill a batch and analyses are running
        that have not submitted yet (tokenising): a lone request never waits."""
        if not self.merge or self.max_wait_s <= 0 or self.busy is None or not self._queue:
            return False
        if self._tokens(self._queue) >= self.max_tokens // 2:
            return False
        return self.busy() > self._pending_jobs

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._queue and not self._closed:
                    self._changed.wait()
                if not self._queue:  # closed and drained
                    return
                if self._should_wait():
                    deadline = self._queue[0].queued_at + self.max_wait_s
                    while self._should_wait() and (left := deadline - time.monotonic()) > 0:
                        self._changed.wait(left)
                    if not self._queue:  # another worker took it meanwhile
                        continue
                chunks = self._take()
            self._run(chunks)

    def _run(self, chunks: list[_Chunk]) -> None:
        windows = [chunk.job.windows[i] for chunk in chunks for i in chunk.indices]
        waited = time.monotonic() - chunks[0].queued_at
        error: BaseException | None = None
        rows: list[Row] = []
        try:
            rows = self.forward(windows, range(len(windows)))
        except BaseException as err:  # handed to every caller in the batch
            log.exception("inference batch of %d windows failed", len(windows))
            error = err
        jobs = {id(chunk.job): chunk.job for chunk in chunks}
        position = 0
        finished: list[_Job] = []
        for chunk in chunks:
            job = chunk.job
            if error is not None:
                job.error = error
            else:
                for index in chunk.indices:
                    job.rows[index] = rows[position]
                    position += 1
            job.chunks_left -= 1
            if job.chunks_left == 0 or error is not None:
                finished.append(job)
        if self.observe is not None:
            self.observe(len(windows), len(jobs), waited)
        with self._changed:  # workers finish calls at once: count under the lock
            self.stats.calls += 1
            self.stats.windows += len(windows)
            self.stats.shared_calls += len(jobs) > 1
            self.stats.max_requests = max(self.stats.max_requests, len(jobs))
            for job in finished:
                if not job.done.is_set():
                    self._pending_jobs -= 1
                    job.done.set()
            self._changed.notify_all()

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking work; queued chunks still run; later calls run inline."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout)


def inference_layout(workers: int, threads: int, cores: int | None = None) -> tuple[int, int]:
    """(inference workers, ORT threads each) for the settings' values, 0 meaning automatic:
    one worker per core with one thread each, or the cores shared among the workers named."""
    cores = cores or usable_cores()
    workers = workers or cores
    return workers, threads or max(1, cores // workers)


def attach_batcher(
    analyzer: Any,
    *,
    workers: int,
    max_tokens: int,
    max_wait_s: float,
    busy: Callable[[], int] | None = None,
    observe: Callable[[int, int, float], None] | None = None,
) -> WindowBatcher | None:
    """Route the analyzer's span model through a new batcher (None: it has no span model,
    e.g. a TF-IDF analyzer, whose work is all in the request thread). A graph that is not
    batch-invariant keeps the library's own batches (``TOKEN_BUDGET``), so its answers are
    those of an analysis without the server."""
    tagger = getattr(analyzer, "span_model", None)
    if not isinstance(tagger, TaggerBase):
        return None
    batcher = WindowBatcher(
        tagger.forward,
        workers=workers,
        max_tokens=max_tokens if tagger.batch_invariant else TOKEN_BUDGET,
        max_wait_s=max_wait_s,
        busy=busy,
        observe=observe,
        merge=tagger.batch_invariant,
    )
    tagger.window_runner = batcher
    return batcher
