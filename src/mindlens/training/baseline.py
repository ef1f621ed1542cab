"""Train the TF-IDF baseline sentence classifier and log it as a complete analyzer."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mindlens import taxonomy
from mindlens.config import Settings
from mindlens.data.dataset import MANIFEST, Manifest
from mindlens.evaluation.metrics import multilabel_report
from mindlens.models.analyzer import Analyzer
from mindlens.models.baseline import TfidfOvrClassifier
from mindlens.tracking import configure_mlflow

PYFUNC_CODE = Path(__file__).resolve().parents[1] / "registry" / "pyfunc_model.py"


@dataclass
class TrainResult:
    run_id: str
    model_uri: str
    metrics: dict[str, float]
    report: dict[str, Any] = field(repr=False)


def fit_baseline(frame: pd.DataFrame, settings: Settings,
                 overrides: dict[str, Any] | None = None) -> tuple[TfidfOvrClassifier, dict[str, Any]]:
    """Fit on the train split and report on the val split (no MLflow)."""
    params = settings.train.baseline.model_dump(exclude={"sources"}) | (overrides or {})
    train, val = frame[frame["split"] == "train"], frame[frame["split"] == "val"]
    if train.empty or val.empty:
        raise ValueError("the dataset needs both a train and a val split")
    seen = {label for labels in train["labels"] for label in labels}
    labels = [t for t in taxonomy.TECHNIQUE_IDS if t in seen]  # taxonomy order, trained labels only
    model = TfidfOvrClassifier(labels, seed=settings.data.seed, **params)
    model.fit(train["text"].tolist(), train["labels"].tolist())
    predicted = model.binarize(model.predict(val["text"].tolist()))
    report = multilabel_report(model.binarize(val["labels"].tolist()), predicted, model.labels)
    return model, report


def training_sentences(manifest: Manifest, settings: Settings) -> pd.DataFrame:
    """Sentences with span labels from the configured sources, train and val splits."""
    frame = manifest.table("sentences")
    keep = (frame["source"].isin(settings.train.baseline.sources) & frame["span_labelled"]
            & frame["split"].isin(["train", "val"]))
    return frame[keep].reset_index(drop=True)


def _f1_figure(report: dict[str, Any]):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_label = report["per_label"]
    names = sorted(per_label, key=lambda k: per_label[k]["f1"])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1))
    ax.barh([taxonomy.technique(n).name for n in names], [per_label[n]["f1"] for n in names],
            color=[taxonomy.technique(n).color for n in names])
    ax.set_xlabel("validation F1 (sentence level)")
    ax.set_xlim(0, 1)
    fig.tight_layout()
    return fig


def train_baseline(settings: Settings, manifest_path: Path | None = None, *,
                   overrides: dict[str, Any] | None = None, run_name: str | None = None,
                   tags: dict[str, str] | None = None) -> TrainResult:
    """Train, evaluate on the held-out articles, and log params, metrics, the
    dataset hash and the analyzer (with signature) to one MLflow run."""
    import mlflow
    from mlflow.models import infer_signature

    manifest = Manifest.read(manifest_path or settings.processed_dir / MANIFEST)
    frame = training_sentences(manifest, settings)
    configure_mlflow(settings)
    with mlflow.start_run(run_name=run_name, tags=tags) as run:
        started = time.perf_counter()
        model, report = fit_baseline(frame, settings, overrides)
        fit_seconds = time.perf_counter() - started
        analyzer = Analyzer(model, name="tfidf-baseline",
                            min_confidence=settings.serving.min_confidence,
                            metadata={"run_id": run.info.run_id,
                                      "data_content_hash": manifest.content_hash})
        metrics = {f"val_{k}": float(report[k]) for k in
                   ("micro_f1", "macro_f1", "micro_precision", "micro_recall", "propaganda_f1")}
        metrics["fit_seconds"] = fit_seconds
        mlflow.log_params({"model": "tfidf_ovr", **model.params,
                           "data_content_hash": manifest.content_hash,
                           "sources": ",".join(settings.train.baseline.sources),
                           "train_rows": int((frame["split"] == "train").sum()),
                           "val_rows": int((frame["split"] == "val").sum())})
        mlflow.set_tag("data_content_hash", manifest.content_hash)
        mlflow.log_metrics(metrics)
        mlflow.log_metrics({f"val_f1_{label}": v["f1"] for label, v in report["per_label"].items()})
        mlflow.log_text(manifest.to_json(), "data/manifest.json")
        mlflow.log_text(json.dumps(report, indent=2), "evaluation/val_report.json")
        mlflow.log_figure(_f1_figure(report), "evaluation/val_f1_per_technique.png")

        example = pd.DataFrame({"text": ["They are traitors, all of them!", "The meeting is at noon."]})
        with tempfile.TemporaryDirectory() as tmp:
            bundle = analyzer.save(Path(tmp) / "analyzer")
            output = pd.DataFrame([{"score": d["document"]["score"], **d["document"]["techniques"]}
                                   for d in map(analyzer.analyze, example["text"])])
            info = mlflow.pyfunc.log_model(
                name="analyzer", python_model=str(PYFUNC_CODE),
                artifacts={"analyzer": str(bundle)},
                signature=infer_signature(example, output), input_example=example,
            )
        mlflow.set_tag("model_uri", info.model_uri)
        return TrainResult(run.info.run_id, info.model_uri, metrics, report)
