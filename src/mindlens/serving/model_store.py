"""The champion being served, swapped atomically when the registry's champion changes.

Only the registry's ``champion`` is ever loaded (never a loose file), so what
the API serves is always what the pipeline promoted. A failed load keeps the
previous model serving: a bad artifact must not take the API down.

Every load verifies the version's artifacts against the checksums recorded for it
(``registry.verify_artifacts``): a corrupt version is refused, the last good one keeps serving,
and ``problem`` says why (``/readyz``, the reload answer, the log, ``mindlens_errors_total``).
"No champion" (nothing registered) and "champion unreadable" (registered, but its artifacts
cannot be fetched, fail their checksums or do not load) are told apart. ``problem`` is fit for
clients: no SQL, no paths; the log has the details.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlens.config import Settings
from mindlens.models.analyzer import Analyzer
from mindlens.monitoring.reference import computed_reference, read_bundle_reference
from mindlens.registry.registry import (
    ArtifactChecksumError,
    ChampionInfo,
    NoChampionError,
    RegistryError,
    champion_info,
    download_champion,
    verify_artifacts,
)
from mindlens.serving.batching import WindowBatcher, attach_batcher, inference_layout
from mindlens.serving.metrics import Metrics

log = logging.getLogger(__name__)

NO_MODEL_MESSAGE = "no champion model registered yet; run the pipeline"


class NoModelError(LookupError):
    """No model is loaded (no champion registered, or it never loaded)."""


class _LoadFailure(Exception):
    """A champion that could not be loaded: ``public`` for clients, ``kind`` for the metric."""

    def __init__(self, kind: str, public: str) -> None:
        super().__init__(public)
        self.kind = kind
        self.public = public


@dataclass(frozen=True)
class LoadedModel:
    """What is served: both halves change together, never one without the other."""

    analyzer: Any  # Analyzer (Any so tests can stand in a fake)
    info: ChampionInfo
    batcher: WindowBatcher | None = None  # runs its span model (dynamic batching), if any


def load_analyzer(folder: Path, threads: int | None = None) -> Any:
    """Load a downloaded champion bundle (a seam for tests); ``threads``: ORT threads."""
    return Analyzer.load(folder, threads=threads)


def remove_stale_downloads(workdir: Path) -> None:
    """Delete the half-downloaded champions of servers that died mid-reload (``kill -9``
    skips the cleanup): ``champion-<pid>-*`` folders whose process is gone."""
    for folder in workdir.glob("champion-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            log.info("removing %s, a download its killed server left behind", folder.name)
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class ModelStore:
    """Holds the served model; ``reload()`` polls the registry and swaps on a new version."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self._current: LoadedModel | None = None
        self._swap_lock = threading.Lock()  # guards _current
        self._reload_lock = threading.Lock()  # one download at a time
        self.last_error: str | None = None  # the last failure in full (type and message), for logs
        self.problem: str | None = None  # the same for clients and /readyz: no SQL, no paths
        self.champion_state = "loading"  # loading | serving | no_champion | unreadable | registry_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # analyses running now (the AnalysisService sets it from admission control): the
        # batcher waits for other requests' windows only while some have not submitted yet
        self.busy: Callable[[], int] | None = None

    # --- reading ---------------------------------------------------------------
    @property
    def current(self) -> LoadedModel | None:
        with self._swap_lock:
            return self._current

    @property
    def version(self) -> str | None:
        current = self.current
        return current.info.version if current else None

    def require(self) -> LoadedModel:
        """The served model, or ``NoModelError`` with a message fit for the client."""
        current = self.current
        if current is None:
            raise NoModelError(self.unavailable_reason())
        return current

    def unavailable_reason(self) -> str:
        """Why nothing is served: no champion registered, or the champion is unreadable."""
        if self.champion_state in ("unreadable", "registry_error") and self.problem:
            return f"no model is served: {self.problem}"
        return NO_MODEL_MESSAGE

    # --- reloading -------------------------------------------------------------
    def reload(self) -> bool:
        """Load the champion if its version differs from the served one; True if it changed."""
        with self._reload_lock:
            try:
                return self._reload()
            except NoChampionError as err:
                self._count("no_champion")
                self.last_error = str(err)
                self.problem = None if self.current is None else f"the champion alias vanished ({err})"
                if self.current is None:
                    self.champion_state = "no_champion"
                    log.warning("%s (%s)", NO_MODEL_MESSAGE, err)
                else:
                    log.warning("champion alias vanished (%s); keeping v%s", err, self.version)
                return False
            except RegistryError as err:
                return self._failed("registry", str(err), err, "registry_error")
            except _LoadFailure as err:
                return self._failed(err.kind, err.public, err.__cause__ or err, "unreadable")
            except Exception as err:
                return self._failed("model_load", "the champion could not be loaded", err, "unreadable")

    def _failed(self, kind: str, public: str, err: BaseException, state: str) -> bool:
        """Count, log (in full) and keep serving what was served; ``problem`` tells clients."""
        self._count("corrupt" if kind == "model_checksum" else "failure")
        self.metrics.errors.labels(type=kind).inc()
        if kind != "model_load":
            self.metrics.errors.labels(type="model_load").inc()
        self.last_error = f"{type(err).__name__}: {err}"
        served = f"v{self.version}" if self.current else "nothing"
        self.problem = f"{public}; still serving {served}"
        if self.current is None:
            self.champion_state = state
        log.error("champion reload failed: %s; still serving %s", public, served, exc_info=err)
        return False

    def _reload(self) -> bool:
        info = champion_info(self.settings)
        if self.current is not None and self.current.info.version == info.version:
            self._count("unchanged")
            self.last_error = self.problem = None
            return False
        workdir = self.settings.paths.serving
        workdir.mkdir(parents=True, exist_ok=True)
        remove_stale_downloads(workdir)
        tmp = Path(tempfile.mkdtemp(prefix=f"champion-{os.getpid()}-", dir=workdir))
        name = f"champion v{info.version}"
        try:
            try:
                info, folder = download_champion(self.settings, tmp)
            except (NoChampionError, RegistryError):
                raise
            except Exception as err:
                raise _LoadFailure(
                    "model_download",
                    f"{name} is unreadable: its artifacts could not be fetched from the artifact store",
                ) from err
            try:
                verified = verify_artifacts(folder, info.checksum)
            except ArtifactChecksumError as err:
                raise _LoadFailure("model_checksum", f"{name} refused: {err} (corrupt artifacts)") from err
            if not verified:
                log.warning("%s records no artifact checksums: loaded unverified", name)
            serving = self.settings.serving
            workers, threads = inference_layout(serving.inference_workers, serving.inference_threads)
            try:
                analyzer = load_analyzer(folder, threads if serving.dynamic_batching else None)
                reference = read_bundle_reference(folder)
            except Exception as err:
                raise _LoadFailure("model_load", f"{name} is unreadable: its bundle does not load") from err
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the bundle is fully in memory by now
        batcher = None
        if serving.dynamic_batching:
            batcher = attach_batcher(
                analyzer,
                workers=workers,
                max_tokens=serving.batch_max_tokens,
                max_wait_s=serving.batch_max_wait_ms / 1000,
                busy=lambda: self.busy() if self.busy is not None else 0,
                observe=self.metrics.observe_batch,
            )
        with self._swap_lock:
            previous, self._current = self._current, LoadedModel(analyzer, info, batcher)
        if previous is not None and previous.batcher is not None:
            previous.batcher.close()  # its queued work still runs; late callers run inline
        self.champion_state = "serving"
        self.metrics.set_model(getattr(analyzer, "name", info.name), info.version)
        self.metrics.drift.set_reference(reference)
        if reference is None:
            self._compute_reference(analyzer, info)
        self._count("changed")
        self.last_error = self.problem = None
        log.info(
            "serving %s v%s (run %s)%s",
            info.name,
            info.version,
            info.run_id,
            f", replacing v{previous.info.version}" if previous else "",
        )
        return True

    def _compute_reference(self, analyzer: Any, info: ChampionInfo) -> None:
        """A champion without a shipped drift reference gets one computed from the validation
        split, in the background so serving starts at once (drift gauges appear when done)."""

        def work() -> None:
            try:
                reference = computed_reference(self.settings, analyzer, info.name, info.version)
            except Exception as err:
                log.warning("no drift reference for v%s: %s: %s", info.version, type(err).__name__, err)
                return
            current = self.current
            if current is not None and current.info.version == info.version:
                self.metrics.drift.set_reference(reference)

        threading.Thread(target=work, name="mindlens-drift-reference", daemon=True).start()

    def _count(self, outcome: str) -> None:
        self.metrics.reloads.labels(outcome=outcome).inc()

    # --- polling ---------------------------------------------------------------
    def start_polling(self, interval_s: float | None = None) -> None:
        """Poll the registry every ``interval_s`` seconds in a daemon thread (0 disables)."""
        interval = self.settings.serving.reload_interval_s if interval_s is None else interval_s
        if interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._poll, args=(interval,), name="mindlens-model-poll", daemon=True
        )
        self._thread.start()

    def stop_polling(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.reload()
