"""One process-wide pool of threads, one per usable core, for the work of one analysis.

Why: ONNX Runtime spreading each operator of a small batch over both cores of a 2-core
machine ran an article's windows only 1.3-1.4x faster than one thread; the same batches
run side by side, each on one single-threaded session, took 20-25 % less time than that
(``benchmarks/bench_inference.py --analyze``; the server's inference workers,
``serving.batching``, rest on the same measurement). The analyzer also hands this pool work
that does not need the network (the text's signals), so it overlaps the network instead of
waiting for it. Threads are enough: ONNX Runtime, the tokenizer and numpy release the GIL.

Fork-safe: a child process (Celery's prefork workers, Airflow's task runner) gets a new
pool on first use, not the parent's, whose threads do not exist in it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_PREFIX = "mindlens-analysis"
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def usable_cores() -> int:
    """The cores this process may run on (its affinity, e.g. a container's CPU set)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def pool() -> ThreadPoolExecutor:
    """The process's pool (made on first use, one thread per usable core)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=usable_cores(), thread_name_prefix=_PREFIX)
        return _pool


def _forget_pool() -> None:  # after fork: the parent's threads are not in the child
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def in_pool() -> bool:
    """Whether the caller is one of the pool's threads (it must not wait on the pool)."""
    return threading.current_thread().name.startswith(_PREFIX)


def submit(function: Callable[..., R], *args: object) -> Future[R]:
    """``function(*args)`` on the pool; run at once (a finished future) from a pool thread,
    which waiting on its own pool could deadlock."""
    if in_pool():
        future: Future[R] = Future()
        try:
            future.set_result(function(*args))
        except BaseException as err:  # handed to the caller, as the pool would
            future.set_exception(err)
        return future
    return pool().submit(function, *args)


def map_ordered(function: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``map`` over the pool, results in order; one item (or a pool thread) runs inline."""
    items = list(items)
    if len(items) < 2 or in_pool():
        return map(function, items)
    return pool().map(function, items)
