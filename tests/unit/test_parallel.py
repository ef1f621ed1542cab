"""The process-wide analysis pool: results in order, errors handed back, no deadlock when a
pool thread submits work, and a forked child gets a working pool of its own."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from mindlens.models import parallel


def test_map_keeps_the_order_and_uses_the_pool() -> None:
    names: list[str] = []

    def square(x: int) -> int:
        names.append(threading.current_thread().name)
        return x * x

    assert list(parallel.map_ordered(square, range(20))) == [x * x for x in range(20)]
    assert all(name.startswith("mindlens-analysis") for name in names)
    assert list(parallel.map_ordered(square, [3])) == [9]  # one item: inline
    assert names[-1] == threading.current_thread().name


def test_submit_hands_back_errors() -> None:
    def fail() -> None:
        raise ValueError("broken text")

    with pytest.raises(ValueError, match="broken text"):
        parallel.submit(fail).result(timeout=10)


def test_work_submitted_from_a_pool_thread_runs_inline() -> None:
    """Every pool thread waiting on work queued behind it would deadlock a full pool."""

    def outer(_: int) -> list[int]:
        assert parallel.in_pool()
        inner = [parallel.submit(lambda k=k: k + 1).result(timeout=10) for k in range(3)]
        return inner + list(parallel.map_ordered(lambda k: -k, range(3)))

    cores = parallel.usable_cores()
    results = [parallel.submit(outer, n) for n in range(cores * 2)]
    assert all(r.result(timeout=30) == [1, 2, 3, 0, -1, -2] for r in results)


def _child(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(list(parallel.map_ordered(lambda x: x + 1, range(5))))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork()")
def test_a_forked_child_gets_its_own_pool() -> None:
    """Celery's prefork workers fork after the parent may have used the pool."""
    assert list(parallel.map_ordered(lambda x: x, range(4))) == [0, 1, 2, 3]  # parent's pool up
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == [1, 2, 3, 4, 5]
