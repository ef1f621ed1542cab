"""Scoring a corpus in chunks with the champion: plan, score each chunk, merge.

The three steps share an output folder, so they can run in one process (``mindlens batch``)
or as separate tasks on separate workers (the ``mindlens_batch_score`` DAG)::

    DIR/plan.json              what is scored, in how many chunks, by which model version
    DIR/corpus.parquet         the checked corpus, one Parquet row group per chunk
    DIR/chunks/chunk-NNNNN.parquet   one scored chunk (timings in its schema metadata)
    DIR/results.parquet        every chunk merged, in corpus order
    DIR/manifest.json          inputs, model, counts, timings, sha256 of results.parquet

``plan_batch`` pins the champion's version when it plans, so every chunk (on any worker, even
after the champion changed) is scored by the same model. Every file is written to a temporary
name and renamed, so a crash never leaves a half-written file under its real name; a rerun
over the same folder, corpus and chunk size skips the chunks already scored.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindlens import taxonomy
from mindlens.batch.corpus import (
    Document,
    as_records,
    corpus_fingerprint,
    corpus_format,
    read_corpus,
)
from mindlens.config import Settings

if TYPE_CHECKING:
    import pyarrow as pa

    from mindlens.models.analyzer import Analyzer

log = logging.getLogger(__name__)

PLAN = "plan.json"
CORPUS = "corpus.parquet"
CHUNKS = "chunks"
RESULTS = "results.parquet"
MANIFEST = "manifest.json"
METADATA_KEY = b"mindlens.batch"  # a chunk file's timings, in its Parquet schema metadata
DEFAULT_CHUNK_SIZE = 100
SPAN_FIELDS = ("start", "end", "text", "technique", "confidence", "tc_confidence", "quoted", "speaker")


class BatchError(RuntimeError):
    """The batch cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Plan:
    """What ``plan.json`` records: the corpus (checked, fingerprinted), the chunking, the model."""

    input: str
    format: str
    documents: int
    chunk_size: int
    chunks: int
    fingerprint: str
    max_documents: int | None
    model: dict[str, Any]
    planned_at: str

    @classmethod
    def read(cls, out: Path) -> Plan:
        path = Path(out) / PLAN
        if not path.is_file():
            raise BatchError(f"{out} holds no batch plan ({PLAN}); plan the batch first")
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` to a temporary name beside ``path``, then rename (unique per process, so two
    workers writing the same file never mix their bytes)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    _write_atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def chunk_path(out: Path, index: int) -> Path:
    return Path(out) / CHUNKS / f"chunk-{index:05d}.parquet"


def chunk_bounds(documents: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each chunk: ``chunk_size`` documents each, the last one shorter."""
    if chunk_size < 1:
        raise BatchError(f"the chunk size must be at least 1, not {chunk_size}")
    return [(start, min(start + chunk_size, documents)) for start in range(0, documents, chunk_size)]


def _corpus_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("title", pa.string()),
            ("source", pa.string()),
            ("date", pa.date32()),
        ]
    )


def results_schema() -> pa.Schema:
    """One row per document: what was found (spans as JSON, the techniques and traits at or
    above the analyzer's confidence threshold) and the document scores."""
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("title", pa.string()),  # the given title, else the headline the analyzer read
            ("source", pa.string()),
            ("date", pa.date32()),
            ("chars", pa.int64()),
            ("score", pa.float64()),  # the document score: its highest technique score
            ("techniques", pa.list_(pa.string())),  # technique ids scoring >= min_confidence
            ("traits", pa.list_(pa.string())),  # trait ids scoring >= min_confidence
            ("technique_scores", pa.string()),  # JSON {technique id: score}
            ("trait_scores", pa.string()),  # JSON {trait id: score}
            ("clickbait", pa.float64()),  # the title's clickbait score (None without a model)
            ("spans", pa.string()),  # JSON [{start, end, text, technique, confidence, ...}]
            ("span_count", pa.int64()),
            ("ms", pa.float64()),  # analysis time of this document
        ]
    )


# --- planning ------------------------------------------------------------------------------


def _champion(settings: Settings) -> dict[str, Any]:
    """The champion's name and version (pinned for the whole batch), or ``BatchError``."""
    from mindlens.registry.registry import NoChampionError, RegistryError, champion_info, check_registry

    try:
        check_registry(settings)
        info = champion_info(settings)
    except NoChampionError as err:
        raise BatchError(f"{err}; run `mindlens registry bootstrap` or `mindlens pipeline` first") from None
    except RegistryError as err:
        raise BatchError(str(err)) from None
    return {
        "name": info.name,
        "version": info.version,
        "semver": info.semver,
        "run_id": info.run_id,
        "uri": f"models:/{info.name}/{info.version}",
        "checksum": info.checksum,
    }


def plan_batch(
    settings: Settings,
    input_path: Path,
    out: Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_documents: int | None = None,
) -> Plan:
    """Check the corpus, split it into chunks and pin the champion (``plan.json``).

    A folder that already holds a plan of the same corpus and chunk size keeps it (and its
    model), so a rerun resumes; a plan of anything else is refused rather than mixed in.
    """
    input_path, out = Path(input_path).resolve(), Path(out).resolve()
    chunk_bounds(1, chunk_size)  # refuses a bad chunk size before reading anything
    documents = read_corpus(input_path, max_documents)
    fingerprint = corpus_fingerprint(documents)
    if (out / PLAN).is_file():
        existing = Plan.read(out)
        if (existing.fingerprint, existing.chunk_size) == (fingerprint, chunk_size):
            if not (out / CORPUS).is_file():
                raise BatchError(f"{out / CORPUS} is missing; remove {out / PLAN} to plan again")
            log.info("resuming the batch planned at %s in %s", existing.planned_at, out)
            return existing
        differs = "chunk size" if existing.fingerprint == fingerprint else "corpus"
        raise BatchError(
            f"{out} holds a batch of another {differs} (planned at {existing.planned_at} from "
            f"{existing.input}); give another output folder or remove this one"
        )
    model = _champion(settings)
    out.mkdir(parents=True, exist_ok=True)
    _write_corpus(out / CORPUS, documents, chunk_size)
    plan = Plan(
        input=str(input_path),
        format=corpus_format(input_path),
        documents=len(documents),
        chunk_size=chunk_size,
        chunks=len(chunk_bounds(len(documents), chunk_size)),
        fingerprint=fingerprint,
        max_documents=max_documents,
        model=model,
        planned_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _write_json(out / PLAN, asdict(plan))  # last: its presence means the plan is complete
    log.info(
        "planned %d documents in %d chunks of %d for %s v%s",
        plan.documents,
        plan.chunks,
        chunk_size,
        model["name"],
        model["version"],
    )
    return plan


def _write_corpus(path: Path, documents: list[Document], chunk_size: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(as_records(documents), schema=_corpus_schema())
    _write_atomic(path, lambda tmp: pq.write_table(table, tmp, row_group_size=chunk_size))
    groups = pq.ParquetFile(path).metadata
    sizes = [groups.row_group(i).num_rows for i in range(groups.num_row_groups)]
    expected = [end - start for start, end in chunk_bounds(len(documents), chunk_size)]
    if sizes != expected:  # each chunk reads its own row group: they must match the chunks
        raise BatchError(f"{path} was written with row groups {sizes[:5]}..., not chunks of {chunk_size}")


# --- scoring -------------------------------------------------------------------------------


def load_model(settings: Settings, model: dict[str, Any]) -> Analyzer:
    """The pinned model version's analyzer, its artifacts checked against the checksums the
    registry recorded for them (JSON and ONNX only, nothing unpickled)."""
    import tempfile

    import mlflow

    from mindlens.models.analyzer import Analyzer
    from mindlens.registry.registry import ArtifactChecksumError, verify_artifacts
    from mindlens.tracking import configure_mlflow

    configure_mlflow(settings)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=model["uri"], dst_path=tmp))
        except Exception as err:
            raise BatchError(f"cannot fetch {model['uri']}: {str(err).splitlines()[0]}") from None
        try:
            verify_artifacts(folder, model.get("checksum"))
        except ArtifactChecksumError as err:
            raise BatchError(f"{model['uri']} refused: {err}") from None
        return Analyzer.load(folder)


def score_document(analyzer: Analyzer, document: dict[str, Any]) -> dict[str, Any]:
    """One results row (``results_schema``) for one corpus row."""
    started = time.perf_counter()
    result = analyzer.analyze(document["text"], title=document.get("title"))
    threshold = result["min_confidence"]
    scores = result["document"]["techniques"]
    traits = result["document"]["traits"]
    spans = [{k: span[k] for k in SPAN_FIELDS if k in span} for span in result["spans"]]
    return {
        "id": document["id"],
        "title": result["title"]["text"] or None,
        "source": document.get("source"),
        "date": document.get("date"),
        "chars": len(document["text"]),
        "score": float(result["document"]["score"]),
        "techniques": [t for t in taxonomy.TECHNIQUE_IDS if scores.get(t, 0.0) >= threshold],
        "traits": [t.id for t in taxonomy.TRAITS if traits.get(t.id, 0.0) >= threshold],
        "technique_scores": json.dumps(scores),
        "trait_scores": json.dumps(traits),
        "clickbait": result["title"]["clickbait"],
        "spans": json.dumps(spans, ensure_ascii=False),
        "span_count": len(spans),
        "ms": round((time.perf_counter() - started) * 1000, 2),
    }


def read_chunk_info(path: Path) -> dict[str, Any]:
    """The timings a scored chunk file carries (its Parquet schema metadata)."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    info: dict[str, Any] = json.loads(metadata.get(METADATA_KEY, b"{}"))
    return info


def score_chunk(
    settings: Settings,
    out: Path,
    index: int,
    *,
    analyzer: Analyzer | None = None,
    load_s: float = 0.0,
    on_document: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Score chunk ``index`` of the plan in ``out`` into its Parquet file; a chunk already
    scored is skipped (``skipped`` True). ``analyzer``: one already loaded (the CLI loads it
    once for every chunk; ``load_s``, the seconds that took, is recorded with this chunk);
    else the plan's model is loaded here. Returns the chunk's timings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    plan = Plan.read(out)
    if not 0 <= index < plan.chunks:
        raise BatchError(f"chunk {index} is not in this plan (it has chunks 0 to {plan.chunks - 1})")
    path = chunk_path(out, index)
    if path.is_file():
        log.info("chunk %d already scored: skipped", index)
        return read_chunk_info(path) | {"skipped": True}
    rows_in = pq.ParquetFile(out / CORPUS).read_row_group(index).to_pylist()
    if analyzer is None:
        loading = time.perf_counter()
        analyzer = load_model(settings, plan.model)
        load_s = time.perf_counter() - loading
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    started = time.perf_counter()
    rows = []
    for document in rows_in:
        rows.append(score_document(analyzer, document))
        if on_document is not None:
            on_document()
    seconds = time.perf_counter() - started
    info = {
        "index": index,
        "documents": len(rows),
        "seconds": round(seconds, 3),
        "docs_per_s": round(len(rows) / seconds, 3) if seconds > 0 else None,
        "load_s": round(load_s, 3),
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    schema = results_schema().with_metadata({METADATA_KEY: json.dumps(info).encode()})
    table = pa.Table.from_pylist(rows, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, lambda tmp: pq.write_table(table, tmp))
    log.info("chunk %d: %d documents in %.1f s (%s doc/s)", index, len(rows), seconds, info["docs_per_s"])
    return info | {"skipped": False}


# --- merging -------------------------------------------------------------------------------


def _counts(table: pa.Table) -> dict[str, Any]:
    rows = table.select(["source", "date", "techniques", "traits", "span_count"]).to_pylist()
    techniques: Counter[str] = Counter(t for row in rows for t in row["techniques"])
    traits: Counter[str] = Counter(t for row in rows for t in row["traits"])
    return {
        "documents": len(rows),
        "documents_with_techniques": sum(1 for row in rows if row["techniques"]),
        "spans": sum(row["span_count"] for row in rows),
        "dated_documents": sum(1 for row in rows if row["date"] is not None),
        "sources": dict(Counter(row["source"] or "(none)" for row in rows).most_common()),
        "techniques": dict(techniques.most_common()),
        "traits": dict(traits.most_common()),
    }


def merge_batch(out: Path) -> dict[str, Any]:
    """Merge every scored chunk into ``results.parquet`` and write ``manifest.json`` (inputs,
    model, counts, timings, the results' sha256). ``BatchError`` naming missing chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mindlens.training.release import file_sha256

    out = Path(out)
    plan = Plan.read(out)
    missing = [i for i in range(plan.chunks) if not chunk_path(out, i).is_file()]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise BatchError(f"{len(missing)} of {plan.chunks} chunks are not scored yet: {shown}")
    paths = [chunk_path(out, i) for i in range(plan.chunks)]
    chunks = [read_chunk_info(p) for p in paths]
    table = pa.concat_tables([pq.read_table(p).replace_schema_metadata(None) for p in paths])
    if table.num_rows != plan.documents:
        raise BatchError(f"the chunks hold {table.num_rows} rows, the plan {plan.documents} documents")
    _write_atomic(out / RESULTS, lambda tmp: pq.write_table(table, tmp))
    scoring_s = sum(c["seconds"] for c in chunks)
    started = min(datetime.fromisoformat(c["started_at"]) for c in chunks)
    finished = max(datetime.fromisoformat(c["finished_at"]) for c in chunks)
    span_s = (finished - started).total_seconds()
    manifest = {
        "input": {
            "path": plan.input,
            "format": plan.format,
            "documents": plan.documents,
            "max_documents": plan.max_documents,
            "fingerprint": plan.fingerprint,
        },
        "model": {k: plan.model.get(k) for k in ("name", "version", "semver", "run_id", "uri")},
        "chunk_size": plan.chunk_size,
        "counts": _counts(table),
        "timings": {
            "scoring_s": round(scoring_s, 3),  # summed over chunks: one worker's time
            "docs_per_s": round(plan.documents / scoring_s, 3) if scoring_s > 0 else None,
            "first_start_to_last_finish_s": round(span_s, 3),  # shorter when chunks ran in parallel
            "parallel_docs_per_s": round(plan.documents / span_s, 3) if span_s > 0 else None,
            "workers": len({(c["host"], c["pid"]) for c in chunks}),
            "chunks": chunks,
        },
        "output": {
            "path": str((out / RESULTS).resolve()),
            "rows": table.num_rows,
            "sha256": file_sha256(out / RESULTS),
        },
        "planned_at": plan.planned_at,
        "merged_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(out / MANIFEST, manifest)
    log.info("merged %d chunks into %s (%d rows)", plan.chunks, out / RESULTS, table.num_rows)
    return manifest


# --- all in one process --------------------------------------------------------------------


def run_batch(
    settings: Settings,
    input_path: Path,
    out: Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_documents: int | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_document: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Plan, score every chunk not yet scored (the model loaded once), merge; the manifest."""
    plan = plan_batch(settings, input_path, out, chunk_size=chunk_size, max_documents=max_documents)
    if on_plan is not None:
        on_plan(plan)
    analyzer: Analyzer | None = None
    for index in range(plan.chunks):
        if chunk_path(out, index).is_file():
            score_chunk(settings, out, index)  # logs the skip
            continue
        load_s = 0.0
        if analyzer is None:  # loaded once, its time recorded with the first chunk it scores
            loading = time.perf_counter()
            analyzer = load_model(settings, plan.model)
            load_s = time.perf_counter() - loading
        score_chunk(settings, out, index, analyzer=analyzer, load_s=load_s, on_document=on_document)
    return merge_batch(out)


def corpus_report(settings: Settings, out: Path) -> dict[str, Any]:
    """Execute ``notebooks/corpus_report.ipynb`` over a merged batch (logged to MLflow, like
    every report) and copy the executed notebook and its HTML into ``out``."""
    import shutil

    from mindlens.notebooks import run_notebook

    out = Path(out).resolve()
    if not (out / MANIFEST).is_file():
        raise BatchError(f"{out} holds no merged batch ({MANIFEST}); merge it first")
    run = run_notebook(settings, "corpus_report", {"batch_dir": str(out)})
    notebook, html = out / "report.ipynb", out / "report.html"
    shutil.copyfile(run.notebook, notebook)
    shutil.copyfile(run.html, html)
    return {"notebook": str(notebook), "html": str(html), "run_id": run.result.get("run_id")}
