"""``mindlens``: one sub-command per pipeline stage, plus serving and ad-hoc analysis."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from mindlens.config import get_settings

app = typer.Typer(help="MindLens: find where a text tries to manipulate its reader.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _settings():  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as err:
        _fail(f"invalid configuration:\n{err}")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "mlflow.store", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


data_app = typer.Typer(help="Fetch, prepare, validate and describe the datasets.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("fetch")
def data_fetch(
    source: Annotated[Optional[list[str]], typer.Option(help="Only this source (repeatable).")] = None,
    force: Annotated[bool, typer.Option(help="Replace local files whose checksum differs.")] = False,
) -> None:
    """Download the public sources (pinned, checksummed) into MINDLENS_DATA_DIR; offline,
    check the local copy instead."""
    from mindlens.data.fetch import ChecksumError, FetchError, fetch

    settings = _settings()
    try:
        report = fetch(settings.data_dir, source, force=force)
    except (ChecksumError, FetchError, ValueError) as err:
        _fail(str(err))
    typer.echo(report.render())


@data_app.command("prepare")
def data_prepare(
    max_documents: Annotated[Optional[int], typer.Option(min=2, help="A seeded sample of N documents per source and split.")] = None,
) -> None:
    """Build the processed dataset (Parquet tables + manifest) from every configured source."""
    from mindlens.data.sources.base import DataNotFoundError
    from mindlens.pipeline import prepare_data

    try:
        manifest = prepare_data(max_documents, _settings())
    except DataNotFoundError as err:
        _fail(str(err))
    typer.echo(f"wrote {manifest['folder']} (content hash {manifest['content_hash'][:12]})")
    for source_split, n in manifest["rows"]["documents"].items():
        typer.echo(f"  {source_split:<28} {n:>6} documents")
    if manifest["near_duplicates"]:
        typer.echo(f"  {manifest['near_duplicates']} texts appear in more than one split "
                   "(near_duplicates.csv)")


def _manifest():  # type: ignore[no-untyped-def]
    from mindlens.data.dataset import Manifest

    try:
        return Manifest.read(_settings().processed_dir)
    except FileNotFoundError as err:
        _fail(str(err))


@data_app.command("validate")
def data_validate() -> None:
    """Run the data tests on the processed dataset; exit 1 if any fails."""
    from mindlens.data.dataset import TABLES
    from mindlens.data.validation import validate_tables

    manifest = _manifest()
    report = validate_tables({name: manifest.table(name) for name in TABLES}, manifest)
    typer.echo(report.render())
    if not report.ok:
        raise typer.Exit(1)


@data_app.command("stats")
def data_stats(
    chart: Annotated[Optional[Path], typer.Option(help="Where to write the bar chart PNG.")] = None,
) -> None:
    """Documents per source and split, labels per technique and source, and a bar chart."""
    from mindlens.data.stats import document_counts, label_chart, label_counts

    manifest = _manifest()
    typer.echo("documents per source and split\n" + document_counts(manifest).to_string())
    typer.echo("\nlabels per technique and source\n" + label_counts(manifest).to_string())
    path = label_chart(manifest, chart or _settings().reports_dir / "data_label_counts.png")
    typer.echo(f"\nchart: {path}")


@app.command()
def train(
    max_documents: Annotated[Optional[int], typer.Option(min=2, help="Prepare data from a sample of N documents per source and split first.")] = None,
    notebook: Annotated[bool, typer.Option(help="Train through the papermill notebook (writes a report).")] = True,
    register_model: Annotated[bool, typer.Option("--register/--no-register", help="Register the result (champion if better).")] = False,
) -> None:
    """Train the baseline and log it to MLflow."""
    from mindlens import pipeline
    from mindlens.data.sources.base import DataNotFoundError
    from mindlens.training.baseline import train_baseline

    settings = _settings()
    try:
        manifest = pipeline.prepare_data(max_documents, settings)
    except DataNotFoundError as err:
        _fail(str(err))
    if notebook:
        result = pipeline.train_with_notebook(manifest["manifest_path"], settings=settings)
    else:
        trained = train_baseline(settings, Path(manifest["manifest_path"]))
        result = {"run_id": trained.run_id, "model_uri": trained.model_uri, "metrics": trained.metrics}
    if register_model:
        result["registration"] = pipeline.register(result["run_id"], result["model_uri"], settings)
    _print_json(result)


@app.command()
def register(run_id: Annotated[str, typer.Argument(help="MLflow run id of a training run.")]) -> None:
    """Register a run's analyzer; it becomes champion if it beats the current one."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from mindlens.pipeline import register as register_stage
    from mindlens.tracking import configure_mlflow

    settings = _settings()
    configure_mlflow(settings)
    try:
        model_uri = mlflow.MlflowClient().get_run(run_id).data.tags.get("model_uri")
    except MlflowException:
        _fail(f"no MLflow run {run_id!r} in {settings.mlflow.tracking_uri}")
    if not model_uri:
        _fail(f"run {run_id} logged no analyzer model")
    _print_json(register_stage(run_id, model_uri, settings))


@app.command()
def evaluate(
    split: Annotated[str, typer.Option(help="Split of the processed dataset to score.")] = "val",
) -> None:
    """Score the registry champion on a split of the processed dataset."""
    from mindlens.evaluation.metrics import multilabel_report
    from mindlens.training.baseline import training_sentences

    settings = _settings()
    frame = training_sentences(_manifest(), settings)
    known = sorted(frame["split"].unique())
    frame = frame[frame["split"] == split]
    if frame.empty:
        _fail(f"split {split!r} is empty; known: {known}")
    analyzer, info = _load_champion(settings)
    model = analyzer.sentence_model
    gold = [[label for label in labels if label in model.labels] for labels in frame["labels"]]
    y_pred = model.binarize(model.predict(frame["text"].tolist()))
    report = multilabel_report(model.binarize(gold), y_pred, model.labels)
    report.pop("per_label")
    _print_json({"model": f"{info.name} v{info.version}", "split": split, **report})


def _load_champion(settings):  # type: ignore[no-untyped-def]
    from mindlens.models.analyzer import Analyzer
    from mindlens.registry import NoChampionError, download_champion

    try:
        with tempfile.TemporaryDirectory() as tmp:
            info, path = download_champion(settings, Path(tmp))
            return Analyzer.load(path), info
    except NoChampionError as err:
        _fail(f"{err}; run `mindlens pipeline` (or `mindlens train --register`) first")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Bind address (default from config).")] = None,
    port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="Port (default from config).")] = None,
) -> None:
    """Serve the API with the Gradio demo at /demo (one uvicorn process)."""
    from mindlens.serving.server import serve as run_server

    settings = _settings()
    run_server(settings, host=host or settings.serving.host, port=port or settings.serving.port)


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return source


def _render(result: dict[str, Any]) -> str:
    lines = [f"model {result['model']}   document score {result['document']['score']:.2f}"]
    traits = sorted(result["document"]["traits"].items(), key=lambda kv: -kv[1])
    lines.append("traits: " + ", ".join(f"{k}={v:.2f}" for k, v in traits))
    for sentence in result["sentences"]:
        if not sentence["techniques"]:
            continue
        found = ", ".join(f"{t['name']} {t['confidence']:.2f}" for t in sentence["techniques"])
        lines.append(f"[{sentence['start']}:{sentence['end']}] {sentence['text']}\n    -> {found}")
    if len(lines) == 2:
        lines.append("no sentence reaches the confidence threshold")
    return "\n".join(lines)


@app.command()
def analyze(
    text: Annotated[Optional[str], typer.Argument(help="Text to analyse, a file path, or - for stdin.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a readable summary.")] = False,
    jsonl: Annotated[Optional[Path], typer.Option(help="Analyse one text per line of this file.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="With --jsonl: write results here (default stdout).")] = None,
    min_confidence: Annotated[Optional[float], typer.Option(min=0.0, max=1.0)] = None,
) -> None:
    """Analyse text with the registry champion."""
    from tqdm import tqdm

    if (text is None) == (jsonl is None):
        _fail("give either TEXT (or - or a file) or --jsonl FILE", code=2)
    settings = _settings()
    analyzer, info = _load_champion(settings)
    model = {"name": info.name, "version": info.version, "run_id": info.run_id}

    def run(one: str) -> dict[str, Any]:
        return {"model": model, **analyzer.analyze(one, min_confidence=min_confidence)}

    if jsonl is not None:
        if not jsonl.is_file():
            _fail(f"no such file: {jsonl}", code=2)
        lines = jsonl.read_text(encoding="utf-8").splitlines()
        sink = open(out, "w", encoding="utf-8") if out else sys.stdout
        try:
            for line in tqdm(lines, desc="analysing", unit="text", file=sys.stderr):
                sink.write(json.dumps(run(line), ensure_ascii=False) + "\n")
        finally:
            if out:
                sink.close()
        return
    content = _read_input(text or "")
    if not content.strip():
        _fail("the text is empty", code=2)
    result = run(content)
    if as_json:
        _print_json(result)
    else:
        result["model"] = f"{info.name} v{info.version}"
        typer.echo(_render(result))


@app.command()
def pipeline(
    max_documents: Annotated[Optional[int], typer.Option(min=2, help="Use a sample of N documents per source and split.")] = None,
    if_no_champion: Annotated[bool, typer.Option(help="Skip when the registry already has a champion.")] = False,
) -> None:
    """Run the Airflow DAG mindlens_pipeline once, locally (airflow dags test)."""
    from mindlens.airflow_local import run_dag_once
    from mindlens.registry import NoChampionError, champion_info

    settings = _settings()
    if if_no_champion:
        try:
            info = champion_info(settings)
            typer.echo(f"champion {info.name} v{info.version} exists; skipping the pipeline")
            return
        except NoChampionError:
            pass
    conf = {"max_documents": max_documents} if max_documents else {}
    code = run_dag_once(settings, "mindlens_pipeline", conf)
    if code != 0:
        _fail(f"the pipeline DAG failed (exit {code}); see the task logs above", code=code)
    try:
        info = champion_info(settings)
    except NoChampionError:
        _fail("the pipeline finished but no champion is registered; see the task logs above")
    typer.echo(f"champion: {info.name} v{info.version} (run {info.run_id})")
    typer.echo(f"reports: {settings.reports_dir}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def airflow(ctx: typer.Context) -> None:
    """Run an ``airflow`` command with the project's Airflow home, DAGs and plugins
    (e.g. ``mindlens airflow standalone`` for the UI on http://127.0.0.1:8080)."""
    from mindlens.airflow_local import run_airflow

    raise typer.Exit(run_airflow(_settings(), list(ctx.args)))


if __name__ == "__main__":
    app()
