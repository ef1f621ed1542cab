"""Batch scoring: a whole corpus scored by the champion in chunks, merged into one Parquet
with a manifest, and a corpus report (``mindlens batch``, the ``mindlens_batch_score`` DAG)."""

from mindlens.batch.corpus import CorpusError, Document, read_corpus
from mindlens.batch.run import (
    BatchError,
    Plan,
    chunk_bounds,
    corpus_report,
    merge_batch,
    plan_batch,
    run_batch,
    score_chunk,
)

__all__ = [
    "BatchError",
    "CorpusError",
    "Document",
    "Plan",
    "chunk_bounds",
    "corpus_report",
    "merge_batch",
    "plan_batch",
    "read_corpus",
    "run_batch",
    "score_chunk",
]
