"""Train the TF-IDF baseline analyzer (sentence, document and clickbait models) and log
everything a researcher needs to trust and reproduce it to one MLflow run."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mindlens import taxonomy
from mindlens.config import Settings
from mindlens.data.dataset import MANIFEST, Manifest
from mindlens.evaluation.evaluate import Evaluation, evaluate_analyzer
from mindlens.evaluation.predictions import span_sentences
from mindlens.models.analyzer import Analyzer
from mindlens.models.baseline import TfidfOvrClassifier
from mindlens.tracking import configure_mlflow, log_run_context

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PYFUNC_CODE = Path(__file__).resolve().parents[1] / "registry" / "pyfunc_model.py"
MODEL_FAMILY = "tfidf_ovr"


@dataclass
class TrainResult:
    run_id: str
    model_uri: str
    metrics: dict[str, float]
    report: dict[str, Any] = field(repr=False)


def training_sentences(
    manifest: Manifest, settings: Settings, sources: list[str] | None = None
) -> pd.DataFrame:
    """Sentences with span labels from the configured (or given) sources, train and val splits."""
    frame = span_sentences(manifest, sources or settings.train.baseline.sources)
    return frame[frame["split"].isin(["train", "val"])].reset_index(drop=True)


def _ordered(labels: set[str]) -> list[str]:
    return [t for t in taxonomy.TECHNIQUE_IDS if t in labels]


def _params(settings: Settings, overrides: dict[str, Any] | None) -> dict[str, Any]:
    exclude = {"sources", "document_sources", "clickbait_sources"}
    given = {k: v for k, v in (overrides or {}).items() if k not in exclude}
    return settings.train.baseline.model_dump(exclude=exclude) | given


def fit_sentence_model(
    manifest: Manifest, settings: Settings, overrides: dict[str, Any] | None = None
) -> TfidfOvrClassifier:
    sources = (overrides or {}).get("sources") or settings.train.baseline.sources
    train = training_sentences(manifest, settings, sources).query("split == 'train'")
    if train.empty:
        raise ValueError(f"no training sentences from {sources}")
    labels = _ordered({t for labels in train["labels"] for t in labels})
    model = TfidfOvrClassifier(labels, seed=settings.data.seed, **_params(settings, overrides))
    return model.fit(train["text"].tolist(), train["labels"].tolist())


def _documents(manifest: Manifest, sources: list[str], split: str) -> pd.DataFrame:
    docs = manifest.table("documents")
    docs = docs[docs["source"].isin(sources) & (docs["split"] == split)].reset_index(drop=True)
    gold = manifest.table("doc_labels").groupby("document_id")["technique"].agg(list).to_dict()
    return docs.assign(labels=docs["document_id"].map(lambda d: sorted(gold.get(d, []))))


def fit_document_model(
    manifest: Manifest, settings: Settings, overrides: dict[str, Any] | None = None
) -> TfidfOvrClassifier | None:
    """Whole-text techniques from document-labelled sources; each label learns only from
    sources that annotate it (``known`` mask), so silence is not taken for a negative."""
    sources = [s for s in settings.train.baseline.document_sources if s in manifest.sources]
    train = _documents(manifest, sources, "train")
    if train.empty:
        return None
    spaces = {s: set(manifest.label_spaces.get(s, [])) for s in sources}
    labels = _ordered({t for labels in train["labels"] for t in labels})
    if not labels:
        return None
    known = np.array(
        [[label in spaces.get(source, set()) for label in labels] for source in train["source"]], dtype=bool
    )
    model = TfidfOvrClassifier(labels, seed=settings.data.seed, **_params(settings, overrides))
    return model.fit(train["text"].tolist(), train["labels"].tolist(), known=known)


def fit_clickbait_model(manifest: Manifest, settings: Settings) -> TfidfOvrClassifier | None:
    sources = [s for s in settings.train.baseline.clickbait_sources if s in manifest.sources]
    train = _documents(manifest, sources, "train")
    if train.empty or train["labels"].map(len).nunique() < 2:
        return None
    params = _params(settings, None) | {"ngram_max": 2, "min_df": 1}
    model = TfidfOvrClassifier(["clickbait"], seed=settings.data.seed, **params)
    return model.fit(train["text"].tolist(), [[t for t in ls if t == "clickbait"] for ls in train["labels"]])


def fit_analyzer(
    manifest: Manifest,
    settings: Settings,
    overrides: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Analyzer:
    return Analyzer(
        fit_sentence_model(manifest, settings, overrides),
        name="tfidf-baseline",
        min_confidence=settings.serving.min_confidence,
        metadata=metadata or {},
        document_model=fit_document_model(manifest, settings, overrides),
        clickbait_model=fit_clickbait_model(manifest, settings),
    )


def _f1_figure(report: dict[str, Any]) -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_label = report["per_label"]
    names = sorted(per_label, key=lambda k: per_label[k]["f1"])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1))
    ax.barh(
        [taxonomy.technique(n).name for n in names],
        [per_label[n]["f1"] for n in names],
        color=[taxonomy.technique(n).color for n in names],
    )
    ax.set_xlabel("validation F1 (sentence level)")
    ax.set_xlim(0, 1)
    fig.tight_layout()
    return fig


def _log_evaluation(evaluation: Evaluation) -> None:
    import mlflow

    split = evaluation.split
    mlflow.log_metrics(evaluation.metrics)
    sentences = evaluation.reports.get("sentences")
    if sentences:
        mlflow.log_metrics({f"{split}_f1_{label}": v["f1"] for label, v in sentences["per_label"].items()})
        mlflow.log_figure(_f1_figure(sentences), f"evaluation/{split}_f1_per_technique.png")
    mlflow.log_text(json.dumps(evaluation.reports, indent=2, default=str), f"evaluation/{split}_report.json")
    for path in evaluation.figures.values():
        mlflow.log_artifact(str(path), "evaluation")
    if evaluation.sentences is not None and split == "val":
        from mindlens.evaluation.error_analysis import (
            confusion_figure,
            confusion_matrix,
        )

        with tempfile.TemporaryDirectory() as tmp:
            labels = [c.removeprefix("p__") for c in evaluation.sentences.columns if c.startswith("p__")]
            matrix = confusion_matrix(evaluation.sentences, labels)
            mlflow.log_text(matrix.to_csv(), f"evaluation/{split}_confusion_matrix.csv")
            mlflow.log_artifact(
                str(confusion_figure(matrix, Path(tmp) / f"{split}_confusion_matrix.png")), "evaluation"
            )


def train_baseline(
    settings: Settings,
    manifest_path: Path | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
) -> TrainResult:
    """Fit the analyzer on the train split, evaluate it on train and val, and log params,
    resolved config, git commit, data hash and counts, metrics per split and class, the
    confusion matrix, reports and the analyzer (with signature) to one MLflow run."""
    import mlflow
    from mlflow.models import infer_signature

    manifest = Manifest.read(manifest_path or settings.processed_dir / MANIFEST)
    configure_mlflow(settings)
    run_tags = {"model_family": MODEL_FAMILY, **(tags or {})}
    with mlflow.start_run(run_name=run_name, tags=run_tags) as run:
        log_run_context(settings, manifest)
        started = time.perf_counter()
        analyzer = fit_analyzer(
            manifest,
            settings,
            overrides,
            metadata={"run_id": run.info.run_id, "data_content_hash": manifest.content_hash},
        )
        mlflow.log_metric("fit_seconds", time.perf_counter() - started)
        sentence_model = analyzer.sentence_model
        if sentence_model is None:  # fit_analyzer always fits one
            raise RuntimeError("the baseline analyzer has no sentence model")
        mlflow.log_params(
            {
                "model": MODEL_FAMILY,
                **sentence_model.params,
                "sentence_sources": ",".join(
                    (overrides or {}).get("sources") or settings.train.baseline.sources
                ),
                "sentence_labels": len(sentence_model.labels),
                "document_model": analyzer.document_model is not None,
                "clickbait_model": analyzer.clickbait_model is not None,
            }
        )
        with tempfile.TemporaryDirectory() as figures:
            evaluations = {
                split: evaluate_analyzer(analyzer, manifest, settings, split, figures_dir=Path(figures))
                for split in ("train", "val")
            }
            for evaluation in evaluations.values():
                _log_evaluation(evaluation)
        val = evaluations["val"]

        example = pd.DataFrame({"text": ["They are traitors, all of them!", "The meeting is at noon."]})
        with tempfile.TemporaryDirectory() as tmp:
            bundle = analyzer.save(Path(tmp) / "analyzer")
            output = pd.DataFrame(
                [
                    {"score": d["document"]["score"], **d["document"]["techniques"]}
                    for d in map(analyzer.analyze, example["text"])
                ]
            )
            info = mlflow.pyfunc.log_model(
                name="analyzer",
                python_model=str(PYFUNC_CODE),
                artifacts={"analyzer": str(bundle)},
                signature=infer_signature(example, output),
                input_example=example,
            )
        mlflow.set_tag("model_uri", info.model_uri)
        return TrainResult(run.info.run_id, info.model_uri, val.metrics, val.reports.get("sentences", {}))
