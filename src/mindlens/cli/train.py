"""``mindlens train``: train a model family and log it to MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mindlens import families
from mindlens.cli.common import fail, print_json, settings_or_exit


def train(
    max_documents: Annotated[
        int | None,
        typer.Option(min=2, help="Prepare data from a sample of N documents per source and split first."),
    ] = None,
    notebook: Annotated[
        bool,
        typer.Option(
            help="Train through the papermill notebook (writes a report); "
            "tfidf only: the neural families always run theirs."
        ),
    ] = True,
    register_model: Annotated[
        bool, typer.Option("--register/--no-register", help="Register the result (champion if better).")
    ] = False,
    param: Annotated[
        list[str] | None,
        typer.Option(help="Baseline hyper-parameter override KEY=VALUE (repeatable), e.g. C=1.0."),
    ] = None,
    model: Annotated[str, typer.Option(help=f"Model family: {families.help_text()}.")] = "tfidf",
    backbone: Annotated[
        str,
        typer.Option(
            help="transformer: encoder alias (minilm), local folder or hub id (needs a fast tokenizer)."
        ),
    ] = "minilm",
    epochs: Annotated[
        int,
        typer.Option(min=1, help="transformer: maximum epochs (early stopping on the family's val metric)."),
    ] = 3,
    max_train_sentences: Annotated[
        int | None, typer.Option(min=8, help="transformer: sample of training sentences.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Run name (default: the family).")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            help="Span-labelled source to train on (repeatable; default: config), e.g. ptc and curated."
        ),
    ] = None,
    device: Annotated[
        str, typer.Option(help="transformer: auto (cuda when available), cpu or cuda.")
    ] = "auto",
    bf16: Annotated[
        bool, typer.Option("--bf16/--no-bf16", help="transformer: bf16 autocast on cuda.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="transformer: sentences per batch.")] = 16,
    learning_rate: Annotated[
        float, typer.Option(min=0.0, help="transformer: encoder learning rate (heads: head_learning_rate).")
    ] = 5e-5,
    context_sentences: Annotated[
        int,
        typer.Option(
            min=0, max=1, help="transformer: 1 reads each sentence with its previous and next sentence."
        ),
    ] = 0,
    max_clickbait_headlines: Annotated[
        int | None, typer.Option(min=8, help="clickbait/multitask: sample of training headlines.")
    ] = None,
    max_length: Annotated[int, typer.Option(min=16, help="transformer: tokens per window.")] = 128,
    distill_soft_targets: Annotated[
        Path | None,
        typer.Option(
            help="transformer: distil a teacher's soft targets (`python -m mindlens.training soft-labels`)."
        ),
    ] = None,
    distill_alpha: Annotated[
        float, typer.Option(min=0.0, help="transformer: weight of the distillation batches' loss.")
    ] = 0.5,
    distill_temperature: Annotated[
        float, typer.Option(min=0.01, help="transformer: distillation temperature.")
    ] = 2.0,
) -> None:
    """Train a model family and log it to MLflow (prepares the data first if needed)."""
    from mindlens import pipeline
    from mindlens.data.dataset import MANIFEST
    from mindlens.data.sources.base import DataNotFoundError
    from mindlens.training import train as train_family
    from mindlens.training.train_config import DEVICES

    if model not in families.names():
        fail(f"--model must be one of {', '.join(families.names())}, not {model!r}", code=2)
    if device not in DEVICES:
        fail(f"--device must be {', '.join(DEVICES[:-1])} or {DEVICES[-1]}, not {device!r}", code=2)
    chosen = families.family(model)
    if distill_soft_targets is not None and not chosen.is_transformer:
        fail(f"--distill-soft-targets needs a transformer family, not {model!r}", code=2)
    if distill_soft_targets is not None and not distill_soft_targets.is_file():
        fail(f"--distill-soft-targets {distill_soft_targets}: no such file", code=2)
    settings = settings_or_exit()
    manifest_path = settings.processed_dir / MANIFEST
    if max_documents is not None or not manifest_path.is_file():
        try:
            manifest = pipeline.prepare_data(max_documents, settings)
        except DataNotFoundError as err:
            fail(str(err))
    else:
        typer.echo(
            f"using the processed dataset at {manifest_path} (`mindlens data prepare` rebuilds it)", err=True
        )
        manifest = {"manifest_path": str(manifest_path)}
    if chosen.is_transformer:
        config = {
            "backbone": backbone,
            "epochs": epochs,
            "max_train_sentences": max_train_sentences,
            "sources": source,
            "device": device,
            "bf16": bf16,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "context_sentences": context_sentences,
            "max_clickbait_headlines": max_clickbait_headlines,
            "max_length": max_length,
        }
        if distill_soft_targets is not None:
            config["distill"] = {
                "soft_targets": str(distill_soft_targets.resolve()),
                "alpha": distill_alpha,
                "temperature": distill_temperature,
            }
        candidate = {"name": name or model, "family": model, "params": config}
        result = pipeline.train_candidate(candidate, manifest["manifest_path"], settings)
        if register_model:
            result["registration"] = pipeline.register(result["run_id"], result["model_uri"], settings)
        print_json(result)
        return
    overrides = _overrides(param or []) | ({"sources": source} if source else {})
    if notebook:
        result = pipeline.train_candidate(
            {"name": name or "tfidf", "family": "tfidf", "params": overrides},
            manifest["manifest_path"],
            settings,
        )
    else:
        trained = train_family(settings, manifest["manifest_path"], "tfidf", overrides, run_name=name)
        result = {"run_id": trained.run_id, "model_uri": trained.model_uri, "metrics": trained.metrics}
    if register_model:
        result["registration"] = pipeline.register(result["run_id"], result["model_uri"], settings)
    print_json(result)


def _overrides(pairs: list[str]) -> dict[str, Any]:
    """``["C=1.0", "ngram_max=1"]`` -> typed overrides, validated against the config model."""
    from pydantic import ValidationError

    from mindlens.config import BaselineSettings

    raw: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in BaselineSettings.model_fields or key.endswith("sources"):
            known = [k for k in BaselineSettings.model_fields if not k.endswith("sources")]
            fail(f"--param {pair!r}: expected KEY=VALUE with KEY one of {', '.join(known)}", code=2)
        raw[key] = None if value.lower() in ("none", "null") else value
    try:
        checked = BaselineSettings(**raw)
    except ValidationError as err:
        fail(f"invalid --param: {err.errors()[0]['loc'][0]}: {err.errors()[0]['msg']}", code=2)
    return {key: getattr(checked, key) for key in raw}
