"""One way to train any family: ``train(settings, manifest_path, family, params)``.

The notebooks (``train.ipynb``, ``train_baseline.ipynb``), ``mindlens train --no-notebook``
and ``python -m mindlens.training`` (a borrowed GPU machine) all call it:

- ``tfidf``: fits and logs the TF-IDF analyzer (``training.baseline``), always to MLflow;
- a transformer family, ``track=True``: one MLflow run holding the parameters, every
  epoch's validation metrics, the release built from the best epoch (ONNX int8 inside a
  complete analyzer, evaluated on every task) and its model;
- a transformer family, ``track=False``: only the PyTorch tagger in ``OUT/best``, no
  MLflow, no ONNX (what ``mindlens registry build-release --tagger`` packs later).

Heavy modules load inside: importing this costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mindlens.config import Settings
from mindlens.families import Family, family

EpochCallback = Callable[[int, dict[str, float]], None]


@dataclass
class Trained:
    """What a training produced. ``metrics``: the analyzer's validation metrics (tfidf and
    tracked transformer runs) or the tagger's (``track=False``)."""

    family: Family
    metrics: dict[str, float]
    run_id: str | None = None
    model_uri: str | None = None
    config: Any = None  # the TaggerTrainConfig of a transformer run
    tagger: Any = None  # the TorchTagger (best epoch, thresholds tuned)
    folder: Path | None = None  # OUT/best (untracked) or OUT/release (tracked) of a transformer run
    report: dict[str, Any] = field(default_factory=dict)  # tfidf: val sentence report; else the release
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: epoch + val metrics

    @property
    def metrics_for_report(self) -> dict[str, float]:
        """``metrics`` with the family's headline metrics first."""
        first = {k: self.metrics[k] for k in self.family.report_metrics if k in self.metrics}
        return first | {k: v for k, v in self.metrics.items() if k not in first}

    @property
    def result(self) -> dict[str, Any]:
        """What a transformer notebook hands the pipeline (its result file)."""
        return {
            "run_id": self.run_id,
            "model_uri": self.model_uri,
            "metrics": self.metrics,
            "release": str(self.folder),
        }


def train(
    settings: Settings,
    manifest_path: str | Path | None,
    family_name: str,
    params: Mapping[str, Any] | None = None,
    *,
    run_name: str | None = None,
    out: Path | None = None,
    track: bool = True,
    tags: dict[str, str] | None = None,
    on_epoch: EpochCallback | None = None,
) -> Trained:
    """Train ``family_name`` with ``params`` (tfidf: ``BaselineSettings`` overrides; else
    ``TaggerTrainConfig`` fields) on the manifest (None: the state folder's). ``out``: the
    transformer's folder (default ``<state>/candidates/<run name>-<time>``)."""
    chosen = family(family_name)
    manifest_file = Path(manifest_path) if manifest_path else None
    if not chosen.is_transformer:
        return _train_baseline(settings, chosen, manifest_file, params, run_name, tags)
    from mindlens.data.dataset import MANIFEST, Manifest
    from mindlens.training.loop import train_tagger

    config = chosen.settings_class(**(dict(params or {}) | {"family": chosen.name}))
    manifest = Manifest.read(manifest_file or settings.processed_dir / MANIFEST)
    run_name = run_name or chosen.name
    out = (
        Path(out)
        if out
        else settings.state_dir / "candidates" / f"{run_name}-{time.strftime('%Y%m%dT%H%M%S')}"
    )
    if not track:
        tagger, metrics = train_tagger(settings, manifest, config, out, on_epoch=on_epoch)
        return Trained(chosen, metrics, config=config, tagger=tagger, folder=out / "best")
    return _train_tracked(settings, manifest, config, out, run_name, tags, on_epoch)


def _train_baseline(
    settings: Settings,
    chosen: Family,
    manifest_path: Path | None,
    params: Mapping[str, Any] | None,
    run_name: str | None,
    tags: dict[str, str] | None,
) -> Trained:
    from mindlens.training.baseline import train_baseline

    result = train_baseline(
        settings, manifest_path, overrides=dict(params or {}), run_name=run_name, tags=tags
    )
    return Trained(chosen, result.metrics, result.run_id, result.model_uri, report=result.report)


def _train_tracked(
    settings: Settings,
    manifest: Any,
    config: Any,
    out: Path,
    run_name: str,
    tags: dict[str, str] | None,
    on_epoch: EpochCallback | None,
) -> Trained:
    """Train, build the release from the best epoch and log both to one MLflow run."""
    import mlflow

    from mindlens.tracking import configure_mlflow, log_run_context
    from mindlens.training.loop import train_tagger
    from mindlens.training.release import build_release, log_release

    chosen = family(config.family)
    configure_mlflow(settings)
    history: list[dict[str, float]] = []
    # the notebook tag keeps the names of the per-family notebooks train.ipynb replaced, so
    # runs stay searchable as before
    run_tags = {"notebook": f"train_{chosen.name}", "transformer_family": chosen.name} | (tags or {})
    with mlflow.start_run(run_name=run_name, tags=run_tags) as run:
        log_run_context(settings, manifest)
        mlflow.log_params(
            {f"tagger.{k}": v for k, v in asdict(config).items() if k != "extra"}
            | {"tagger.heads": ",".join(config.heads), "tagger.early_stopping": config.early_stopping}
        )

        def log_epoch(epoch: int, metrics: dict[str, float]) -> None:
            history.append({"epoch": epoch + 1, **metrics})
            mlflow.log_metrics({f"epoch_{k}": v for k, v in metrics.items()}, step=epoch + 1)
            if on_epoch is not None:
                on_epoch(epoch, metrics)

        started = time.perf_counter()
        tagger, _ = train_tagger(settings, manifest, config, out / "torch", on_epoch=log_epoch)
        mlflow.log_metric("train_seconds", time.perf_counter() - started)
        build_release(
            settings,
            out / "torch" / "best",
            out / "release",
            version=f"0.0.0+{run.info.run_id[:8]}",
            changelog=f"candidate {run_name}",
        )
        run_id, model_uri, release = log_release(settings, out / "release")
    return Trained(
        chosen,
        release["metrics"],
        run_id,
        model_uri,
        config=config,
        tagger=tagger,
        folder=out / "release",
        report=release,
        history=history,
    )
