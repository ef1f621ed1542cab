"""``mindlens``: one sub-command per pipeline stage, plus serving and ad-hoc analysis."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from mindlens.config import get_settings

app = typer.Typer(
    help="MindLens: find where a text tries to manipulate its reader.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "mlflow.store", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


data_app = typer.Typer(help="Fetch, prepare, validate and describe the datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("fetch")
def data_fetch(
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable).")] = None,
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
    max_documents: Annotated[
        int | None, typer.Option(min=2, help="A seeded sample of N documents per source and split.")
    ] = None,
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
        typer.echo(
            f"  {manifest['near_duplicates']} texts appear in more than one split (near_duplicates.csv)"
        )


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
    chart: Annotated[Path | None, typer.Option(help="Where to write the bar chart PNG.")] = None,
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
    model: Annotated[
        str,
        typer.Option(
            help="Model family: tfidf (baseline), or a transformer family: span (token + sentence heads; alias tagger), sentence, tc, clickbait, multitask (all four heads)."
        ),
    ] = "tfidf",
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
) -> None:
    """Train a model family and log it to MLflow (prepares the data first if needed)."""
    from mindlens import pipeline
    from mindlens.data.dataset import MANIFEST
    from mindlens.data.sources.base import DataNotFoundError
    from mindlens.training.baseline import train_baseline

    if model not in pipeline.FAMILIES:
        _fail(f"--model must be one of {', '.join(pipeline.FAMILIES)}, not {model!r}", code=2)
    if device not in ("auto", "cpu", "cuda"):
        _fail(f"--device must be auto, cpu or cuda, not {device!r}", code=2)
    settings = _settings()
    manifest_path = settings.processed_dir / MANIFEST
    if max_documents is not None or not manifest_path.is_file():
        try:
            manifest = pipeline.prepare_data(max_documents, settings)
        except DataNotFoundError as err:
            _fail(str(err))
    else:
        typer.echo(
            f"using the processed dataset at {manifest_path} (`mindlens data prepare` rebuilds it)", err=True
        )
        manifest = {"manifest_path": str(manifest_path)}
    if model != "tfidf":
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
        candidate = {"name": name or model, "family": model, "params": config}
        result = pipeline.train_candidate(candidate, manifest["manifest_path"], settings)
        if register_model:
            result["registration"] = pipeline.register(result["run_id"], result["model_uri"], settings)
        _print_json(result)
        return
    overrides = _overrides(param or []) | ({"sources": source} if source else {})
    if notebook:
        result = pipeline.train_candidate(
            {"name": name or "tfidf", "family": "tfidf", "params": overrides},
            manifest["manifest_path"],
            settings,
        )
    else:
        trained = train_baseline(
            settings, Path(manifest["manifest_path"]), overrides=overrides, run_name=name
        )
        result = {"run_id": trained.run_id, "model_uri": trained.model_uri, "metrics": trained.metrics}
    if register_model:
        result["registration"] = pipeline.register(result["run_id"], result["model_uri"], settings)
    _print_json(result)


def _overrides(pairs: list[str]) -> dict[str, Any]:
    """``["C=1.0", "ngram_max=1"]`` -> typed overrides, validated against the config model."""
    from pydantic import ValidationError

    from mindlens.config import BaselineSettings

    raw: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in BaselineSettings.model_fields or key.endswith("sources"):
            known = [k for k in BaselineSettings.model_fields if not k.endswith("sources")]
            _fail(f"--param {pair!r}: expected KEY=VALUE with KEY one of {', '.join(known)}", code=2)
        raw[key] = None if value.lower() in ("none", "null") else value
    try:
        checked = BaselineSettings(**raw)
    except ValidationError as err:
        _fail(f"invalid --param: {err.errors()[0]['loc'][0]}: {err.errors()[0]['msg']}", code=2)
    return {key: getattr(checked, key) for key in raw}


from mindlens.labelling.cli import labels_app  # noqa: E402  (Label Studio: labels config|push|pull)

app.add_typer(labels_app, name="labels")

from mindlens.feedback.cli import feedback_app  # noqa: E402  (feedback store: migrate|list|export)

app.add_typer(feedback_app, name="feedback")

from mindlens.evaluation.protocol_cli import protocol_app  # noqa: E402  (grouped validation: folds|cv|analyse)

app.add_typer(protocol_app, name="protocol")

registry_app = typer.Typer(help="The model registry: shipped release, versions.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")


@registry_app.command("bootstrap")
def registry_bootstrap(
    release: Annotated[
        Path | None, typer.Option(help="Release folder (default: the shipped models/v1).")
    ] = None,
) -> None:
    """Register the shipped release as the champion when the registry has none."""
    from mindlens.registry import NoChampionError, champion_info
    from mindlens.release import SHIPPED, ReleaseError, register_release

    settings = _settings()
    try:
        info = champion_info(settings)
        typer.echo(f"champion {info.name} v{info.version} exists; nothing to do")
        return
    except NoChampionError:
        pass
    try:
        _print_json(register_release(settings, release or SHIPPED))
    except ReleaseError as err:
        _fail(str(err))


@registry_app.command("list")
def registry_list() -> None:
    """Registered versions with aliases, semantic versions and the selection metric."""
    from mindlens.registry import list_versions

    rows = list_versions(_settings())
    if not rows:
        _fail("no registered versions yet; run `mindlens registry bootstrap` or the pipeline")
    for row in rows:
        aliases = ",".join(row["aliases"]) or "-"
        metric = {k: v for k, v in row.items() if k.startswith("val_")}
        shown = ", ".join(f"{k}={v:.4f}" for k, v in metric.items() if v is not None)
        typer.echo(
            f"v{row['version']:<4} {aliases:<12} {row['semver'] or '-':<10} {shown}  "
            f"{row['changelog'] or ''}".rstrip()
        )


def _after_alias_change(result: dict[str, Any]) -> None:
    from mindlens.pipeline import notify_reload

    _print_json(result | {"reload": notify_reload(_settings())})


@registry_app.command("promote")
def registry_promote(
    version: Annotated[str, typer.Argument(help="Registered version number, e.g. 3.")],
    alias: Annotated[str | None, typer.Option(help="Alias to move (default: champion).")] = None,
) -> None:
    """Point the champion (or another alias) at a version and tell the running API to reload."""
    from mindlens.registry import promote

    try:
        _after_alias_change(promote(_settings(), version, alias))
    except LookupError as err:
        _fail(str(err))


@registry_app.command("rollback")
def registry_rollback(
    alias: Annotated[str | None, typer.Option(help="Alias to roll back (default: champion).")] = None,
) -> None:
    """Return the champion to the version it replaced, and tell the running API to reload."""
    from mindlens.registry import rollback

    try:
        _after_alias_change(rollback(_settings(), alias))
    except LookupError as err:
        _fail(str(err))


@registry_app.command("build-release")
def registry_build_release(
    tagger: Annotated[
        Path,
        typer.Option(
            help="Trained PyTorch tagger folder (`torch/best` of `mindlens train --model span|multitask|...`)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Release folder to write (e.g. models/v1).")],
    version: Annotated[str, typer.Option(help="Semantic version of the release.")] = "1.0.0",
    changelog: Annotated[str, typer.Option(help="One-line changelog.")] = "First production model",
    training_command: Annotated[
        str | None, typer.Option(help="The command that trained the tagger (model card).")
    ] = None,
    hardware: Annotated[
        str | None, typer.Option(help="Where it was trained, e.g. '1x H100' (model card).")
    ] = None,
) -> None:
    """Export a trained tagger (ONNX int8) with the document and clickbait models as a release."""
    from mindlens.release import build_release

    if not tagger.is_dir():
        _fail(f"no such folder: {tagger}", code=2)
    release = build_release(
        _settings(),
        tagger,
        out,
        version=version,
        changelog=changelog,
        training_command=training_command,
        hardware=hardware,
    )
    typer.echo(
        f"wrote {out}: {len(release['files'])} files, metrics: "
        + ", ".join(
            f"{k}={v:.3f}"
            for k, v in sorted(release["metrics"].items())
            if k in ("val_micro_f1", "val_flc_f1", "val_si_f1", "val_tc_micro_f1")
        )
    )


@registry_app.command("model-card")
def registry_model_card(
    release: Annotated[
        Path | None, typer.Option(help="Release folder (default: the shipped models/v1).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the card.")] = Path("MODEL_CARD.md"),
) -> None:
    """Write the model card of a release from its release.json."""
    from mindlens.model_card import render
    from mindlens.release import SHIPPED, ReleaseError, read_release

    try:
        manifest = read_release(release or SHIPPED)
    except ReleaseError as err:
        _fail(str(err))
    command = "mindlens registry model-card" + (f" --release {release}" if release else "") + f" --out {out}"
    out.write_text(render(manifest, command), encoding="utf-8")
    typer.echo(f"wrote {out}")


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
    model_uri: Annotated[
        str | None,
        typer.Option(help="MLflow model URI (runs:/ID/analyzer, models:/NAME/3); default the champion."),
    ] = None,
    split: Annotated[str, typer.Option(help="Split of the processed dataset to score.")] = "val",
    report: Annotated[
        bool, typer.Option(help="Also execute the evaluate and error-analysis notebooks.")
    ] = True,
    task: Annotated[
        str | None, typer.Option(help="Score an official PTC file instead: si, tc or flc.")
    ] = None,
    gold: Annotated[Path | None, typer.Option(help="With --task: gold labels file.")] = None,
    pred: Annotated[Path | None, typer.Option(help="With --task: predictions file.")] = None,
) -> None:
    """Score a model on every task of the processed dataset (or score a PTC predictions file)."""
    if task is not None or gold is not None or pred is not None:
        _score_file(task, gold, pred)
        return
    from mindlens import pipeline
    from mindlens.evaluation.evaluate import evaluate_analyzer

    settings = _settings()
    manifest = _manifest()
    analyzer, ref = _load_model(settings, model_uri)
    known = sorted(manifest.table("documents")["split"].unique())
    if split not in known:
        _fail(f"split {split!r} is not in the processed data; known: {known}", code=2)
    evaluation = evaluate_analyzer(analyzer, manifest, settings, split)
    typer.echo(f"{ref['label']} on {split}")
    for name, value in sorted(evaluation.metrics.items()):
        typer.echo(f"  {name:<32} {value:.4f}")
    if report:
        for name, result in pipeline.evaluation_reports(model_uri, split, settings=settings).items():
            typer.echo(f"{name} report: {result['report_html']}")


def _score_file(task: str | None, gold: Path | None, pred: Path | None) -> None:
    from mindlens.evaluation.ptc_format import score_file

    if task not in ("si", "tc", "flc") or gold is None or pred is None:
        _fail("scoring a file needs --task si|tc|flc, --gold FILE and --pred FILE", code=2)
    for path in (gold, pred):
        if not path.is_file():
            _fail(f"no such file: {path}", code=2)
    try:
        _print_json(score_file(task, gold, pred))
    except ValueError as err:
        _fail(str(err), code=2)


def _load_model(settings, model_uri: str | None):  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    from mindlens.registry import NoChampionError, load_analyzer

    try:
        return load_analyzer(settings, model_uri)
    except NoChampionError as err:
        _fail(f"{err}; run `mindlens pipeline` (or `mindlens train --register`) first")
    except (MlflowException, OSError) as err:
        _fail(f"cannot load model {model_uri!r}: {str(err).splitlines()[0]}")


@app.command("predict-ptc")
def predict_ptc(
    articles: Annotated[Path, typer.Option(help="Folder of article<ID>.txt files.")],
    task: Annotated[str, typer.Option(help="si, tc or flc.")],
    out: Annotated[Path, typer.Option(help="Where to write the predictions.")],
    template: Annotated[
        Path | None, typer.Option(help="For tc: the spans to classify (second column ?).")
    ] = None,
    model_uri: Annotated[str | None, typer.Option(help="MLflow model URI; default the champion.")] = None,
) -> None:
    """Predict on PTC-style articles in the official SemEval-2020 Task 11 formats."""
    from mindlens.data.sources.ptc import iter_articles
    from mindlens.evaluation import ptc_format
    from mindlens.evaluation.ptc_predict import predict_flc, predict_si, predict_tc

    if task not in ("si", "tc", "flc"):
        _fail(f"--task must be si, tc or flc, not {task!r}", code=2)
    if not articles.is_dir():
        _fail(f"no such folder: {articles}", code=2)
    documents = list(iter_articles(articles, split="unlabelled"))
    if not documents:
        _fail(f"no article*.txt files in {articles}", code=2)
    if task == "tc" and (template is None or not template.is_file()):
        _fail("--task tc needs --template FILE (the spans to classify)", code=2)
    analyzer, ref = _load_model(_settings(), model_uri)
    if task == "si":
        ptc_format.write_si(out, predict_si(analyzer, documents))
    elif task == "flc":
        ptc_format.write_flc(out, predict_flc(analyzer, documents))
    else:
        try:
            rows = ptc_format.read_tc_template(template)
            predicted = predict_tc(analyzer, {d.native_id: d for d in documents}, rows)
        except ValueError as err:
            _fail(str(err), code=2)
        ptc_format.write_tc(out, [(a, t, s, e) for a, s, e, t in predicted])
    typer.echo(f"wrote {out} ({task}, {len(documents)} articles, model {ref['label']})")


@app.command()
def compare(
    run: Annotated[list[str] | None, typer.Option(help="Run id to include (repeatable).")] = None,
    registered: Annotated[bool, typer.Option(help="Compare the registered versions instead.")] = False,
    last: Annotated[int, typer.Option(min=1, help="Without --run: the last N training runs.")] = 10,
    split: Annotated[str, typer.Option()] = "val",
    markdown: Annotated[Path | None, typer.Option(help="Also write the Markdown table here.")] = None,
    readme: Annotated[Path | None, typer.Option(help="Replace the comparison table in this README.")] = None,
) -> None:
    """Runs (or registered versions) side by side on the main metrics."""
    from mindlens.evaluation.compare import compare_runs, to_markdown, update_readme

    frame = compare_runs(_settings(), run, registered=registered, last=last, split=split)
    if frame.empty:
        _fail("no runs to compare; train a model first")
    table = to_markdown(frame, split)
    typer.echo(table)
    if markdown:
        markdown.write_text(table + "\n", encoding="utf-8")
    if readme:
        command = "mindlens compare" + (" --registered" if registered else "") + f" --readme {readme}"
        update_readme(readme, table, command)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from config).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default from config).")] = None,
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
    text: Annotated[str | None, typer.Argument(help="Text to analyse, a file path, or - for stdin.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a readable summary.")
    ] = False,
    jsonl: Annotated[Path | None, typer.Option(help="Analyse one text per line of this file.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="With --jsonl: write results here (default stdout).")
    ] = None,
    min_confidence: Annotated[float | None, typer.Option(min=0.0, max=1.0)] = None,
    model_uri: Annotated[str | None, typer.Option(help="MLflow model URI; default the champion.")] = None,
) -> None:
    """Analyse text with the registry champion (or any model URI)."""
    from tqdm import tqdm

    if (text is None) == (jsonl is None):
        _fail("give either TEXT (or - or a file) or --jsonl FILE", code=2)
    settings = _settings()
    analyzer, ref = _load_model(settings, model_uri)
    model = {k: ref[k] for k in ("name", "version", "run_id", "uri")}

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
        typer.echo(_render(result | {"model": ref["label"]}))


@app.command()
def pipeline(
    max_documents: Annotated[
        int | None, typer.Option(min=2, help="Use a sample of N documents per source and split.")
    ] = None,
    if_no_champion: Annotated[
        bool, typer.Option(help="Skip when the registry already has a champion.")
    ] = False,
    once: Annotated[
        bool, typer.Option(help="Skip when the pipeline already succeeded in this state folder.")
    ] = False,
) -> None:
    """Run the Airflow DAG mindlens_pipeline once, locally (airflow dags test)."""
    from mindlens.airflow_local import run_dag_once
    from mindlens.registry import NoChampionError, champion_info

    settings = _settings()
    marker = settings.state_dir / "pipeline.succeeded"
    if once and marker.is_file():
        typer.echo(f"the pipeline already ran here ({marker}); skipping (run `mindlens pipeline` to retrain)")
        return
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
    marker.write_text(f"champion v{info.version}\n")
    typer.echo(f"champion: {info.name} v{info.version} (run {info.run_id})")
    typer.echo(f"reports: {settings.reports_dir}")


@app.command()
def retrain(
    max_documents: Annotated[
        int | None, typer.Option(min=2, help="Use a sample of N documents per source and split.")
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Why (recorded with the decision): manual, drift, label_sync...")
    ] = "manual",
    promote: Annotated[bool, typer.Option(help="Promote the new version if it passes the gate.")] = True,
    airflow_dag: Annotated[
        bool,
        typer.Option(
            "--airflow", help="Run the mindlens_retrain DAG (airflow dags test) instead of in this process."
        ),
    ] = False,
) -> None:
    """Retrain on the reviewed feedback: rebuild, train retrain.candidates, compare with the
    champion on the same sets, register as challenger, promote if retrain.gate passes, reload."""
    from mindlens.data.sources.base import DataNotFoundError

    settings = _settings()
    if airflow_dag:
        from mindlens.airflow_local import run_dag_once

        conf = {"reason": reason, "promote": promote} | (
            {"max_documents": max_documents} if max_documents else {}
        )
        code = run_dag_once(settings, "mindlens_retrain", conf)
        if code != 0:
            _fail(f"the retrain DAG failed (exit {code}); see the task logs above", code=code)
        return
    from mindlens import retrain as retrain_job

    try:
        result = retrain_job.run(max_documents, reason=reason, allow_promotion=promote, settings=settings)
    except DataNotFoundError as err:
        _fail(str(err))
    decision = result["decision"]
    _print_json(
        {
            "version": result["registration"],
            "decision": decision["decision"],
            "reasons": decision["reasons"],
            "promotion": result["promotion"],
            "redeploy": result["redeploy"],
            "retrain_run_id": result["run_id"],
        }
    )


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def airflow(ctx: typer.Context) -> None:
    """Run an ``airflow`` command with the project's Airflow home, DAGs and plugins
    (e.g. ``mindlens airflow standalone`` for the UI on http://127.0.0.1:8080)."""
    from mindlens.airflow_local import run_airflow

    raise typer.Exit(run_airflow(_settings(), list(ctx.args)))


monitoring_app = typer.Typer(
    help="Drift references and reports, the Grafana dashboard, plots.", no_args_is_help=True
)
app.add_typer(monitoring_app, name="monitoring")


@monitoring_app.command("reference")
def monitoring_reference(
    folder: Annotated[Path, typer.Argument(help="An analyzer bundle folder, e.g. models/v1.")],
    max_texts: Annotated[int | None, typer.Option(help="Validation texts to analyse.")] = None,
) -> None:
    """Write the bundle's drift_reference.json from the prepared validation split (a release
    folder's checksums are refreshed)."""
    from mindlens.monitoring.reference import write_bundle_reference

    try:
        path = write_bundle_reference(_settings(), folder, max_texts)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    typer.echo(f"wrote {path}")


@monitoring_app.command("drift")
def monitoring_drift(
    limit: Annotated[int | None, typer.Option(help="Latest prediction-log lines to read.")] = None,
) -> None:
    """PSI of the champion's logged predictions against its reference, and whether
    retraining is due (what the mindlens_monitoring DAG reports)."""
    from mindlens.monitoring.report import (
        champion_reference,
        drift_report,
        predictions_path,
        read_predictions,
    )

    settings = _settings()
    reference, info = champion_reference(settings)
    entries = read_predictions(
        predictions_path(settings), limit or settings.monitoring.report_max_predictions
    )
    report = drift_report(settings, reference, entries, info["version"])
    report.pop("shares")
    _print_json(report | {"model": info})


@monitoring_app.command("dashboard")
def monitoring_dashboard(
    check: Annotated[bool, typer.Option(help="Exit 1 if the committed JSON differs.")] = False,
) -> None:
    """Generate deploy/grafana/dashboards/mindlens.json from monitoring/dashboard.py."""
    from mindlens.monitoring import dashboard

    if check:
        if dashboard.DASHBOARD_FILE.read_text() != dashboard.render():
            _fail(f"{dashboard.DASHBOARD_FILE} is stale; run `mindlens monitoring dashboard`")
        typer.echo("dashboard is up to date")
        return
    typer.echo(f"wrote {dashboard.write()}")


@monitoring_app.command("plots")
def monitoring_plots(
    prometheus: Annotated[str, typer.Option(help="Prometheus base URL.")] = "http://127.0.0.1:9090",
    minutes: Annotated[float, typer.Option(help="How far back to plot.")] = 60.0,
    out: Annotated[Path, typer.Option(help="PNG to write.")] = Path("docs/monitoring.png"),
) -> None:
    """The dashboard's panels drawn from Prometheus range queries (where Grafana can't run)."""
    import time

    from mindlens.monitoring.plots import render

    typer.echo(f"wrote {render(prometheus, out, time.time() - minutes * 60)}")


if __name__ == "__main__":
    app()
