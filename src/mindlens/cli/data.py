"""``mindlens data``: fetch, prepare, validate and describe the datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mindlens.cli.common import fail, processed_manifest, settings_or_exit

data_app = typer.Typer(help="Fetch, prepare, validate and describe the datasets.", no_args_is_help=True)


@data_app.command("fetch")
def data_fetch(
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable).")] = None,
    force: Annotated[bool, typer.Option(help="Replace local files whose checksum differs.")] = False,
) -> None:
    """Download the public sources (pinned, checksummed) into MINDLENS_DATA_DIR; offline,
    check the local copy instead."""
    from mindlens.data.fetch import ChecksumError, FetchError, fetch

    settings = settings_or_exit()
    try:
        report = fetch(settings.data_dir, source, force=force)
    except (ChecksumError, FetchError, ValueError) as err:
        fail(str(err))
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
        manifest = prepare_data(max_documents, settings_or_exit())
    except DataNotFoundError as err:
        fail(str(err))
    typer.echo(f"wrote {manifest['folder']} (content hash {manifest['content_hash'][:12]})")
    for source_split, n in manifest["rows"]["documents"].items():
        typer.echo(f"  {source_split:<28} {n:>6} documents")
    if manifest["near_duplicates"]:
        typer.echo(
            f"  {manifest['near_duplicates']} texts appear in more than one split (near_duplicates.csv)"
        )


@data_app.command("validate")
def data_validate() -> None:
    """Run the data tests on the processed dataset; exit 1 if any fails."""
    from mindlens.data.dataset import TABLES
    from mindlens.data.validation import validate_tables

    manifest = processed_manifest()
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

    manifest = processed_manifest()
    typer.echo("documents per source and split\n" + document_counts(manifest).to_string())
    typer.echo("\nlabels per technique and source\n" + label_counts(manifest).to_string())
    path = label_chart(manifest, chart or settings_or_exit().reports_dir / "data_label_counts.png")
    typer.echo(f"\nchart: {path}")
