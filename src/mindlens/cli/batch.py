"""``mindlens batch``: score a whole corpus with the champion on this machine (the
``mindlens_batch_score`` DAG's twin: the same plan, chunks, merge and report)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mindlens.cli.common import fail, print_json, settings_or_exit

if TYPE_CHECKING:
    from mindlens.batch import Plan


def batch(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="The corpus: a folder of .txt files (a sub-folder is the source), a .jsonl or a "
            ".parquet file with id, text and optional title, source, date (YYYY-MM-DD).",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output folder: results.parquet, manifest.json, chunks.")
    ],
    chunk_size: Annotated[int, typer.Option(min=1, help="Documents per chunk.")] = 100,
    max_documents: Annotated[
        int | None, typer.Option(min=1, help="Score only the first N documents.")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also execute the corpus report notebook (HTML in --out).")
    ] = False,
) -> None:
    """Score a corpus with the champion in chunks; rerun to resume after a crash."""
    from tqdm import tqdm

    from mindlens.batch import BatchError, CorpusError, corpus_report, run_batch
    from mindlens.batch.run import MANIFEST, chunk_path, read_chunk_info

    settings = settings_or_exit()
    bar: Any = None

    def on_plan(plan: Plan) -> None:
        nonlocal bar
        done = sum(
            read_chunk_info(chunk_path(out, i))["documents"]
            for i in range(plan.chunks)
            if chunk_path(out, i).is_file()
        )
        label = f"{plan.model['name']} v{plan.model['version']}"
        typer.echo(
            f"{plan.documents} documents in {plan.chunks} chunks of {plan.chunk_size}, scored by {label}"
            + (f"; {done} already scored" if done else ""),
            err=True,
        )
        bar = tqdm(total=plan.documents, initial=done, desc="scoring", unit="doc", file=sys.stderr)

    try:
        manifest = run_batch(
            settings,
            input_path,
            out,
            chunk_size=chunk_size,
            max_documents=max_documents,
            on_plan=on_plan,
            on_document=lambda: bar.update(1),
        )
    except CorpusError as err:
        fail(f"bad input: {err}", code=2)
    except BatchError as err:
        fail(str(err))
    finally:
        if bar is not None:
            bar.close()
    summary: dict[str, Any] = {
        "results": manifest["output"]["path"],
        "manifest": str((out / MANIFEST).resolve()),
        "documents": manifest["counts"]["documents"],
        "documents_with_techniques": manifest["counts"]["documents_with_techniques"],
        "spans": manifest["counts"]["spans"],
        "docs_per_s": manifest["timings"]["docs_per_s"],
        "model": f"{manifest['model']['name']} v{manifest['model']['version']}",
    }
    if report:
        try:
            summary["report"] = corpus_report(settings, out)["html"]
        except Exception as err:  # NotebookFailed names the executed copy with the traceback
            fail(f"the corpus report failed: {err}")
    print_json(summary)
