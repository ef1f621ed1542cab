"""A JSON-lines log of every prediction, for monitoring (the drift report reads it). Raw text
is kept only if configured: by default a hash and a length. Feedback joins its prediction
in the feedback database, not here (``mindlens.feedback.predictions``).

Storage faults degrade, they never fail a request: ``record`` only puts the line on a bounded
queue (``logging.handlers.QueueHandler``); a ``QueueListener`` thread writes it through a
standard rotating handler (rotated by size and by age, ``backups`` old files kept). A line is
written whole or not at all: a failed write is cut back to where the line began. A write
failure (a full disk, a directory in the file's place, a full queue) is counted in
``mindlens_errors_total{type="prediction_log"}`` and reported by ``problem`` (``/readyz``
says "degraded") until a later line is written again.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mindlens.feedback.predictions import text_sha256
from mindlens.serving.request_id import current as current_request_id

log = logging.getLogger(__name__)

QUEUE_LINES = 10_000  # lines waiting for the disk; beyond that they are dropped (and counted)


class _LineHandler(logging.handlers.RotatingFileHandler):
    """The standard size-rotating handler, also rotated by age, writing each record as one whole
    line (UTF-8, appended with one ``write``; cut back on failure so no partial line remains)."""

    def __init__(self, path: Path, max_bytes: int, max_age_s: float, backups: int, log: PredictionLog):
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
        self.max_age_s = max_age_s
        self.owner = log
        self.rollover_at = time.time() + max_age_s

    def shouldRollover(self, record: logging.LogRecord) -> int:
        if time.time() >= self.rollover_at and os.path.isfile(self.baseFilename):
            return 1 if os.path.getsize(self.baseFilename) > 0 else 0
        return super().shouldRollover(record)

    def doRollover(self) -> None:
        super().doRollover()
        self.rollover_at = time.time() + self.max_age_s

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.shouldRollover(record):
                self.doRollover()
            if self.stream is None:
                self.stream = self._open()
            self._append(record.getMessage() + "\n")
        except Exception as err:  # never raise into the listener thread
            self._drop_stream()
            self.owner._failed(err)
            return
        self.owner._written()

    def _open(self) -> Any:
        # unbuffered bytes: a line goes to the file in write() calls of its own, nothing waits
        # in a buffer to be flushed (half) later
        return open(self.baseFilename, "ab", buffering=0)

    def _append(self, line: str) -> None:
        stream: Any = self.stream  # the unbuffered binary file of _open
        data = memoryview(line.encode("utf-8"))
        start = stream.seek(0, os.SEEK_END)
        try:
            while data:
                written = stream.write(data)
                data = data[written:]
            if self.owner.fsync:
                os.fsync(stream.fileno())
        except BaseException:
            try:  # a partial line (ENOSPC mid-write) is cut back: the file ends on a whole line
                os.ftruncate(stream.fileno(), start)
            except OSError:
                pass
            raise

    def _drop_stream(self) -> None:
        stream, self.stream = self.stream, None  # reopened on the next line
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


class _Enqueue(logging.handlers.QueueHandler):
    """``QueueHandler`` that counts a line it cannot queue (the writer is stuck) instead of
    printing a traceback."""

    def __init__(self, q: queue.Queue[Any], log: PredictionLog) -> None:
        super().__init__(q)
        self.owner = log

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record  # the message is a finished JSON line; nothing to format

    def handleError(self, record: logging.LogRecord) -> None:
        self.owner._failed(queue.Full("prediction-log queue full: the writer is not keeping up"))


class PredictionLog:
    def __init__(
        self,
        path: Path | None,
        text_mode: str = "hash",
        truncate_chars: int = 200,
        *,
        max_bytes: int = 50 * 2**20,
        max_age_s: float = 24 * 3600,
        backups: int = 7,
        on_error: Callable[[], None] | None = None,
        fsync: bool = False,
    ) -> None:
        self.path = path
        self.text_mode = text_mode
        self.truncate_chars = truncate_chars
        self.on_error = on_error
        self.fsync = fsync
        self.errors = 0
        self.problem: str | None = None  # why the last write failed; None once one succeeds again
        self._state_lock = threading.Lock()
        self._listener: logging.handlers.QueueListener | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # reported on the first write too; serving starts anyway
            log.warning("prediction log folder %s cannot be created: %s", path.parent, err)
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_LINES)
        self._handler = _LineHandler(path, max_bytes, max_age_s, backups, self)
        self._logger = logging.Logger(f"mindlens.prediction_log.{id(self)}")  # private: no propagation
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(_Enqueue(self._queue, self))
        self._listener = logging.handlers.QueueListener(self._queue, self._handler)
        self._listener.start()

    # --- writing (off the request path) -------------------------------------------------
    def record(self, endpoint: str, text: str, result: dict[str, Any], min_confidence: float = 0.0) -> None:
        if self.path is None:
            return
        # a speaker's name is text too: logged only where the log keeps the text
        fields: tuple[str, ...] = ("start", "end", "technique", "confidence", "quoted")
        fields += ("speaker",) if self.text_mode == "full" else ()
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": current_request_id.get(),
            "endpoint": endpoint,
            "model": result.get("model"),
            "text_sha256": text_sha256(text),
            "text_chars": len(text),
            "spans": [
                {k: s.get(k) for k in fields}
                for s in result.get("spans", [])
                if s["confidence"] >= min_confidence
            ],
            "document": {"score": result["document"]["score"], "traits": result["document"]["traits"]},
            "clickbait": (result.get("title") or {}).get("clickbait"),
            "latency_ms": result.get("timings_ms", {}).get("total"),
        }
        if self.text_mode == "full":
            entry["text"] = text
        elif self.text_mode == "truncate":
            entry["text"] = text[: self.truncate_chars]
        line = json.dumps(entry, ensure_ascii=False)
        self._logger.info(line)  # no args: the message is taken as it is

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued line is written (or failed); for tests and shutdown."""
        if self._listener is None:
            return
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        """Write what is queued, stop the writer thread and close the file."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()  # processes what is queued first
            self._handler.close()

    # --- health ------------------------------------------------------------------------
    def _failed(self, err: BaseException) -> None:
        with self._state_lock:
            self.errors += 1
            first = self.problem is None
            self.problem = f"the prediction log cannot be written ({type(err).__name__}); analyses go on"
        if self.on_error is not None:
            self.on_error()
        if first:  # once per outage, not once per line
            log.error("prediction log write failed: %s: %s; analyses go on unlogged", type(err).__name__, err)

    def _written(self) -> None:
        if self.problem is not None:
            with self._state_lock:
                self.problem = None
            log.warning("prediction log writes again")
