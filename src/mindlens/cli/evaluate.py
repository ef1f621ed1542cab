"""``mindlens evaluate``, ``predict-ptc`` and ``compare``: scores, official PTC files, tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mindlens.cli.common import fail, load_model, print_json, processed_manifest, settings_or_exit

if TYPE_CHECKING:
    from mindlens.config import Settings
    from mindlens.data.dataset import Manifest
    from mindlens.evaluation.evaluate import Evaluation


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
    protocol: Annotated[
        bool,
        typer.Option(
            help="Also the protocol's figures: the unseen-story val articles, article-bootstrap sd."
        ),
    ] = True,
) -> None:
    """Score a model on every task of the processed dataset (or score a PTC predictions file)."""
    if task is not None or gold is not None or pred is not None:
        _score_file(task, gold, pred)
        return
    from mindlens import pipeline
    from mindlens.evaluation.evaluate import evaluate_analyzer

    settings = settings_or_exit()
    manifest = processed_manifest()
    analyzer, ref = load_model(settings, model_uri)
    known = sorted(manifest.table("documents")["split"].unique())
    if split not in known:
        fail(f"split {split!r} is not in the processed data; known: {known}", code=2)
    evaluation = evaluate_analyzer(analyzer, manifest, settings, split)
    typer.echo(f"{ref['label']} on {split}")
    for name, value in sorted(evaluation.metrics.items()):
        typer.echo(f"  {name:<32} {value:.4f}")
    if protocol:
        _protocol_figures(analyzer, manifest, settings, evaluation)
    if report:
        for name, result in pipeline.evaluation_reports(model_uri, split, settings=settings).items():
            typer.echo(f"{name} report: {result['report_html']}")


def _protocol_figures(analyzer: Any, manifest: Manifest, settings: Settings, evaluation: Evaluation) -> None:
    """What the protocol says about a fixed model: on ``val``, its scores on the legacy val
    articles whose story no legacy train article tells (mean ± article-bootstrap sd); on the
    ``test`` split of a ``mindlens protocol holdout`` dataset, the lines above are already
    the grouped held-out figures."""
    from mindlens.validation.protocol import holdout_articles
    from mindlens.validation.unseen import SPLIT, score_unseen

    if evaluation.split == "test" and holdout_articles(manifest):
        n = len(holdout_articles(manifest))
        typer.echo(
            f"protocol: test is the grouped held-out part ({n} PTC articles); the figures above are its"
        )
        return
    if evaluation.split != SPLIT:
        return
    unseen = score_unseen(analyzer, manifest, settings, evaluation)
    if not unseen.articles:
        typer.echo("protocol: no unseen-story val articles (every val story has a legacy train article)")
        return
    typer.echo(
        f"protocol: unseen-story val articles ({len(unseen.articles)} legacy val articles whose story no "
        f"legacy train article tells; mean ± sd over {settings.protocol.bootstrap_draws} article-bootstrap "
        "draws; honest for a model trained on the legacy train split)"
    )
    for line in unseen.lines():
        typer.echo(line)


def _score_file(task: str | None, gold: Path | None, pred: Path | None) -> None:
    from mindlens.evaluation.ptc_format import is_task, score_file

    if not is_task(task) or gold is None or pred is None:
        fail("scoring a file needs --task si|tc|flc, --gold FILE and --pred FILE", code=2)
    for path in (gold, pred):
        if not path.is_file():
            fail(f"no such file: {path}", code=2)
    try:
        print_json(score_file(task, gold, pred))
    except ValueError as err:
        fail(str(err), code=2)


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
        fail(f"--task must be si, tc or flc, not {task!r}", code=2)
    if not articles.is_dir():
        fail(f"no such folder: {articles}", code=2)
    documents = list(iter_articles(articles, split="unlabelled"))
    if not documents:
        fail(f"no article*.txt files in {articles}", code=2)
    if task == "tc" and (template is None or not template.is_file()):
        fail("--task tc needs --template FILE (the spans to classify)", code=2)
    analyzer, ref = load_model(settings_or_exit(), model_uri)
    if task == "si":
        ptc_format.write_si(out, predict_si(analyzer, documents))
    elif task == "flc":
        ptc_format.write_flc(out, predict_flc(analyzer, documents))
    else:
        if template is None:  # checked above: --task tc needs --template
            fail("--task tc needs --template FILE (the spans to classify)", code=2)
        try:
            rows = ptc_format.read_tc_template(template)
            predicted = predict_tc(analyzer, {d.native_id: d for d in documents}, rows)
        except ValueError as err:
            fail(str(err), code=2)
        ptc_format.write_tc(out, [(a, t, s, e) for a, s, e, t in predicted])
    typer.echo(f"wrote {out} ({task}, {len(documents)} articles, model {ref['label']})")


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

    frame = compare_runs(settings_or_exit(), run, registered=registered, last=last, split=split)
    if frame.empty:
        fail("no runs to compare; train a model first")
    table = to_markdown(frame, split)
    typer.echo(table)
    if markdown:
        markdown.write_text(table + "\n", encoding="utf-8")
    if readme:
        command = "mindlens compare" + (" --registered" if registered else "") + f" --readme {readme}"
        update_readme(readme, table, command)
