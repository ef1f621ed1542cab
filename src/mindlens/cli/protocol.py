"""``mindlens protocol``: grouped validation whose numbers hold on unseen articles.

``folds`` shows (and writes) the article groups, folds and held-out part; ``cv`` cross-
validates the fast candidates over grouped folds (mean ± sd); ``holdout`` writes the
held-out dataset slow models train and are scored on; ``analyse`` measures why the random
``val`` split flatters TC. See docs/VALIDATION.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mindlens.cli.common import fail, settings_or_exit
from mindlens.config import Settings

if TYPE_CHECKING:
    from mindlens.data.dataset import Manifest

protocol_app = typer.Typer(
    help="Grouped validation: article groups and folds, grouped cross-validation, the validation-gap analysis.",
    no_args_is_help=True,
)

Threshold = Annotated[
    float | None, typer.Option(min=0.0, max=1.0, help="Similarity that links two articles (default: config).")
]
K = Annotated[int | None, typer.Option(min=2, help="Number of folds (default: config).")]
Seed = Annotated[int | None, typer.Option(help="Seed dealing groups into folds (default: config).")]
Threads = Annotated[
    int, typer.Option(min=1, help="BLAS/OpenMP threads; more than 1 oversubscribes a shared CPU.")
]


def _settings(k: int | None = None, seed: int | None = None, threshold: float | None = None) -> Settings:
    """The configured settings with this command's protocol overrides (a copy)."""
    settings = settings_or_exit()
    given = {"k": k, "seed": seed, "similarity_threshold": threshold}
    update = {key: value for key, value in given.items() if value is not None}
    if not update:
        return settings
    protocol = settings.protocol.model_copy(update=update)
    return settings.model_copy(update={"protocol": protocol})


def _manifest(settings: Settings) -> Manifest:
    from mindlens.data.dataset import Manifest

    try:
        return Manifest.read(settings.processed_dir)
    except FileNotFoundError as err:
        fail(str(err))


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """Cap BLAS/OpenMP threads: on a loaded 2-core machine the default spins, and a
    logistic regression that takes seconds takes minutes."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n):
        yield


@protocol_app.command("folds")
def folds(
    k: K = None,
    seed: Seed = None,
    threshold: Threshold = None,
    out: Annotated[Path | None, typer.Option(help="CSV: document_id, group, fold, holdout part.")] = None,
) -> None:
    """The article groups, the k grouped folds and the held-out part of the labelled PTC
    articles (deterministic for a seed)."""
    import pandas as pd

    from mindlens.validation import protocol

    settings = _settings(k, seed, threshold)
    manifest = _manifest(settings)
    groups = protocol.ptc_groups(manifest, settings)
    if not groups:
        fail("no labelled PTC articles in the processed dataset")
    weights = protocol.span_weights(manifest, groups)
    cv_folds = protocol.ptc_folds(manifest, settings, groups)
    outer = protocol.ptc_holdout(manifest, settings, groups)
    inner = protocol.ptc_inner_split(manifest, settings, outer, groups)
    sizes = pd.Series(groups).value_counts()
    cfg = settings.protocol
    typer.echo(
        f"{len(groups)} articles in {len(sizes)} groups at similarity ≥ {cfg.similarity_threshold} "
        f"(largest {sizes.max()}, singletons {int((sizes == 1).sum())}); k={cfg.k}, seed={cfg.seed}"
    )
    typer.echo(f"{'fold':>6} {'articles':>9} {'groups':>7} {'spans':>6}")
    for fold in cv_folds:
        n_groups = len({groups[d] for d in fold.test})
        spans = sum(weights[d] for d in fold.test)
        typer.echo(f"{fold.index:>6} {len(fold.test):>9} {n_groups:>7} {spans:>6.0f}")
    for name, ids in (("held-out", outer.test), ("inner train", inner.train), ("inner val", inner.test)):
        typer.echo(f"{name:>12}: {len(ids)} articles, {sum(weights[d] for d in ids):.0f} spans")
    if out is not None:
        fold_of = {d: f.index for f in cv_folds for d in f.test}
        part = {d: "train" for d in inner.train} | {d: "val" for d in inner.test}
        part |= {d: "test" for d in outer.test}
        frame = pd.DataFrame(
            {
                "document_id": sorted(groups),
                "group": [groups[d] for d in sorted(groups)],
                "fold": [fold_of[d] for d in sorted(groups)],
                "holdout_part": [part[d] for d in sorted(groups)],
            }
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        typer.echo(f"wrote {out}")


@protocol_app.command("cv")
def cv(
    candidate: Annotated[
        list[str] | None,
        typer.Option(help="A configured train candidate (repeatable); default every tfidf candidate."),
    ] = None,
    probe: Annotated[
        bool, typer.Option(help="Also the TC probe (TF-IDF + LR over gold span text, TC only).")
    ] = True,
    random: Annotated[
        bool, typer.Option(help="Also article-level (ungrouped) k-fold, to show the difference.")
    ] = False,
    k: K = None,
    seed: Seed = None,
    threshold: Threshold = None,
    out: Annotated[Path | None, typer.Option(help="JSON with every fold's metrics.")] = None,
    threads: Threads = 1,
) -> None:
    """Grouped k-fold cross-validation of the fast candidates: each labelled PTC article is
    scored once, by a model that never saw its story; mean ± sd over folds."""
    from mindlens.validation import cross_validation, protocol
    from mindlens.validation.gap import PROBE_PARAMS

    settings = _settings(k, seed, threshold)
    manifest = _manifest(settings)
    configured = {c.name: c for c in settings.train.candidates}
    names = candidate or [c.name for c in settings.train.candidates if c.family in protocol.FAMILIES]
    unknown = [n for n in names if n not in configured]
    if unknown:
        fail(f"unknown candidate(s) {unknown}; configured: {sorted(configured)}", code=2)
    slow = [n for n in names if configured[n].family not in protocol.FAMILIES]
    if slow:
        fail(f"{slow}: too slow for k-fold; use `mindlens protocol holdout`", code=2)
    runs: list[tuple[str, str, dict[str, Any]]] = [
        (n, configured[n].family, dict(configured[n].params)) for n in names
    ]
    if probe:
        runs.append(("tc-probe", protocol.TC_PROBE, dict(PROBE_PARAMS)))
    groups = protocol.ptc_groups(manifest, settings)
    schemes = {"grouped": protocol.ptc_folds(manifest, settings, groups)}
    if random:
        schemes["random"] = protocol.grouped_folds(
            {d: d for d in groups},
            settings.protocol.k,
            settings.protocol.seed,
            protocol.span_weights(manifest, groups),
        )
    results: dict[str, list[cross_validation.CVResult]] = {}
    with _threads(threads):
        for scheme, scheme_folds in schemes.items():
            results[scheme] = [
                cross_validation.cross_validate(
                    family, params, manifest, settings, folds=scheme_folds, name=name
                )
                for name, family, params in runs
            ]
    cfg = settings.protocol
    for scheme, scheme_results in results.items():
        typer.echo(
            f"\n{scheme} {cfg.k}-fold (threshold {cfg.similarity_threshold}, seed {cfg.seed})"
            if scheme == "grouped"
            else f"\narticle-level random {cfg.k}-fold (seed {cfg.seed})"
        )
        typer.echo(cross_validation.cv_table(scheme_results))
        metric = settings.train.selection.legacy_metric.removeprefix("val_")  # cv_flc_f1 -> flc_f1
        first = scheme_results[0]
        for other in scheme_results[1:]:
            if metric in other.summary() and metric in first.summary():
                mean, sd = cross_validation.paired_difference(other, first, metric)
                typer.echo(
                    f"  {other.name} - {first.name}, {metric} on the same folds: {mean:+.3f} ± {sd:.3f}"
                )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "protocol": cfg.model_dump(),
            **{s: [r.to_dict() for r in rs] for s, rs in results.items()},
        }
        out.write_text(json.dumps(payload, indent=2, default=float))
        typer.echo(f"wrote {out}")


@protocol_app.command("holdout")
def holdout(
    out: Annotated[Path, typer.Option(help="Folder for the held-out processed dataset (a data dir).")],
    seed: Seed = None,
    threshold: Threshold = None,
) -> None:
    """Write the processed dataset for slow models: labelled PTC articles as train (inner
    training part), val (inner part for early stopping and thresholds) and test (the grouped
    held-out part, scored once). Point MINDLENS_STATE_DIR at a folder whose data/ is OUT."""
    from mindlens.validation import protocol

    settings = _settings(None, seed, threshold)
    manifest = _manifest(settings)
    dataset, outer, inner = protocol.holdout_dataset(manifest, settings, out)
    typer.echo(
        f"wrote {dataset.folder} (content hash {dataset.content_hash[:12]}): PTC train {len(inner.train)}, "
        f"val {len(inner.test)}, test {len(outer.test)} articles"
    )


@protocol_app.command("analyse")
def analyse(
    out_dir: Annotated[
        Path | None,
        typer.Option(help="Report, JSON and figure (default <state_dir>/reports/validation_gap)."),
    ] = None,
    v1: Annotated[
        Path | None, typer.Option(help="A bundle trained on the legacy train split (e.g. models/v1).")
    ] = None,
    candidate: Annotated[
        list[str] | None, typer.Option(help="TF-IDF candidates to compare (repeatable; default tfidf).")
    ] = None,
    seeds: Annotated[
        int, typer.Option(min=2, help="Seeded random and grouped splits for the variance.")
    ] = 20,
    threads: Threads = 1,
) -> None:
    """Measure why the random val split flatters TC (near duplicates, batches, shared spans,
    topic overlap, class mix, variance) and compare protocols; prints Markdown."""
    from mindlens.validation.gap import analyse as run_analysis

    settings = _settings()
    manifest = _manifest(settings)
    target = out_dir or settings.reports_dir / "validation_gap"
    if v1 is not None and not v1.exists():
        fail(f"no bundle at {v1}", code=2)
    with _threads(threads):
        try:
            report = run_analysis(
                manifest, settings, target, v1=v1, candidates=candidate or ["tfidf"], seeds=seeds
            )
        except ValueError as err:
            fail(str(err), code=2)
    typer.echo(report.markdown)
    for name, path in report.files.items():
        typer.echo(f"{name}: {path}", err=True)
