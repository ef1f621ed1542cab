"""Batch scoring: a whole corpus scored by the champion in chunks, then a corpus report.

plan -> score[*] -> merge -> report

Thin by design: each task calls ``mindlens.batch`` (the same functions as ``mindlens
batch``); nothing runs at import time. ``plan`` checks the corpus (a folder of ``.txt``
files, a ``.jsonl`` or a ``.parquet`` file with id, text and optional title, source, date),
splits it into chunks and pins the champion's version; ``score`` is mapped over the chunks,
so Celery workers share them (each writes its own Parquet; the output folder must be shared
storage); ``merge`` writes ``results.parquet`` and ``manifest.json``; ``report`` executes
``notebooks/corpus_report.ipynb`` (logged to MLflow; HTML copied into the output folder).
A failed run resumes when triggered again with the same conf: scored chunks are skipped.
Trigger from the Airflow UI with conf such as
``{"input_path": "/data/corpus.jsonl", "output_dir": "/data/scored/corpus", "chunk_size": 200}``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="mindlens_batch_score",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["mindlens", "batch"],
    params={
        "input_path": Param(
            "", type="string", description="The corpus: a folder of .txt files, a .jsonl or a .parquet file"
        ),
        "output_dir": Param(
            "", type="string", description="Where results.parquet, manifest.json and the report go"
        ),
        "chunk_size": Param(100, type="integer", minimum=1, description="Documents per mapped task"),
        "max_documents": Param(
            None, type=["null", "integer"], minimum=1, description="Score only the first N; empty = all"
        ),
    },
    doc_md=__doc__,
)
def mindlens_batch_score() -> None:
    @task
    def plan() -> list[dict]:
        from pathlib import Path

        from mindlens.batch import plan_batch
        from mindlens.config import get_settings

        params = get_current_context()["params"]
        for name in ("input_path", "output_dir"):
            if not (params.get(name) or "").strip():
                raise ValueError(f"the {name} parameter is required (trigger with conf)")
        out = Path(params["output_dir"]).resolve()
        planned = plan_batch(
            get_settings(),
            Path(params["input_path"]),
            out,
            chunk_size=params["chunk_size"],
            max_documents=params["max_documents"],
        )
        return [{"output_dir": str(out), "index": i} for i in range(planned.chunks)]

    @task(map_index_template="{{ 'chunk %d' % task.op_kwargs['chunk']['index'] }}")
    def score(chunk: dict) -> dict:
        from mindlens.batch import score_chunk
        from mindlens.config import get_settings

        return score_chunk(get_settings(), chunk["output_dir"], chunk["index"])

    @task
    def merge(scored: list[dict]) -> dict:
        from pathlib import Path

        from mindlens.batch import merge_batch

        output_dir = str(Path(get_current_context()["params"]["output_dir"]).resolve())
        manifest = merge_batch(output_dir)
        timings = {k: v for k, v in manifest["timings"].items() if k != "chunks"}
        return {"output_dir": output_dir, "counts": manifest["counts"], "timings": timings}

    @task
    def report(merged: dict) -> dict:
        from mindlens.batch import corpus_report
        from mindlens.config import get_settings

        return corpus_report(get_settings(), merged["output_dir"])

    report(merge(score.expand(chunk=plan())))


mindlens_batch_score()
