"""Data tests on the processed dataset (pandera schemas plus cross-table checks).

Run by ``mindlens data validate`` and by the pipeline DAG, whose run fails
with this report in the task log when a check fails. Near-duplicates across
splits are reported as a warning: some public corpora ship them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from mindlens import taxonomy
from mindlens.data.dataset import TABLES, Manifest
from mindlens.schema import SPLITS

TECHNIQUES = list(taxonomy.TECHNIQUE_IDS)

# Expected sizes of the full public sources as given here (datasets README and
# SOURCE.txt: the test splits are held out), with a small tolerance.
EXPECTED_DOCUMENTS = {
    "ptc": 371 + 90,  # train articles + unlabelled test articles
    "semeval2021": 688 + 63,  # training_set + dev_set
    "clickbait": 14329 + 14362,
    "logic": 1849 + 300 + 855 + 277,  # edu train/dev + climate train/dev
}
EXPECTED_SPANS = {"ptc": 6128, "semeval2021": 1498 + 182}
EXPECTED_SI_SPANS = {"ptc": 5468}
EXPECTED_LABEL_SHARE = {("clickbait", "clickbait"): (0.45, 0.55)}  # share of documents
TOLERANCE = 0.02


class DataValidationError(ValueError):
    """The processed data failed a data test; the message is the readable report."""


@dataclass
class Check:
    name: str
    status: str  # "pass" | "warn" | "fail"
    detail: str = ""


@dataclass
class ValidationReport:
    manifest: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def add(self, name: str, problems: list[str], *, warn_only: bool = False, ok_detail: str = "") -> None:
        if problems:
            shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more" if len(problems) > 5 else "")
            self.checks.append(Check(name, "warn" if warn_only else "fail", shown))
        else:
            self.checks.append(Check(name, "pass", ok_detail))

    def render(self) -> str:
        width = max((len(c.name) for c in self.checks), default=10)
        marks = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}
        lines = [f"data validation of {self.manifest}"]
        lines += [f"  {marks[c.status]}  {c.name.ljust(width)}  {c.detail}".rstrip() for c in self.checks]
        failed = sum(c.status == "fail" for c in self.checks)
        lines.append(
            f"{'OK' if self.ok else 'FAILED'}: {len(self.checks)} checks, {failed} failed, "
            f"{sum(c.status == 'warn' for c in self.checks)} warnings"
        )
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": {c.name: c.status for c in self.checks}}


def _nonblank(series: pd.Series) -> pd.Series:
    return series.str.strip().str.len() > 0


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "documents": pa.DataFrameSchema(
        {
            "document_id": pa.Column(str, unique=True),
            "source": pa.Column(str),
            "split": pa.Column(str, pa.Check.isin(SPLITS)),
            "granularity": pa.Column(str, pa.Check.isin(["span", "document"])),
            "title": pa.Column(str),
            "text": pa.Column(str, pa.Check(_nonblank, error="empty text")),
            "hard_negative": pa.Column(bool),
        },
        strict=True,
    ),
    "spans": pa.DataFrameSchema(
        {
            "document_id": pa.Column(str),
            "source": pa.Column(str),
            "split": pa.Column(str, pa.Check.isin(SPLITS)),
            "start": pa.Column(int, pa.Check.ge(0)),
            "end": pa.Column(int, pa.Check.gt(0)),
            "technique": pa.Column(str, pa.Check.isin(TECHNIQUES)),
            "text": pa.Column(str, pa.Check(_nonblank, error="empty span text")),
        },
        checks=pa.Check(lambda d: d["end"] > d["start"], error="end <= start"),
        strict=True,
    ),
    "doc_labels": pa.DataFrameSchema(
        {
            "document_id": pa.Column(str),
            "source": pa.Column(str),
            "split": pa.Column(str, pa.Check.isin(SPLITS)),
            "technique": pa.Column(str, pa.Check.isin(TECHNIQUES)),
        },
        strict=True,
    ),
    "si_spans": pa.DataFrameSchema(
        {
            "document_id": pa.Column(str),
            "source": pa.Column(str),
            "split": pa.Column(str, pa.Check.isin(SPLITS)),
            "start": pa.Column(int, pa.Check.ge(0)),
            "end": pa.Column(int, pa.Check.gt(0)),
            "text": pa.Column(str, pa.Check(_nonblank, error="empty span text")),
        },
        checks=pa.Check(lambda d: d["end"] > d["start"], error="end <= start"),
        strict=True,
    ),
    "sentences": pa.DataFrameSchema(
        {
            "document_id": pa.Column(str),
            "source": pa.Column(str),
            "split": pa.Column(str, pa.Check.isin(SPLITS)),
            "sentence_index": pa.Column(int, pa.Check.ge(0)),
            "start": pa.Column(int, pa.Check.ge(0)),
            "end": pa.Column(int),
            "text": pa.Column(str, pa.Check(_nonblank, error="empty sentence")),
            "labels": pa.Column(
                object,
                pa.Check(
                    lambda s: s.map(lambda v: set(v) <= set(TECHNIQUES)), error="unknown technique in labels"
                ),
            ),
            "span_labelled": pa.Column(bool),
        },
        checks=pa.Check(lambda d: d["end"] > d["start"], error="end <= start"),
        strict=True,
    ),
}


def _schema_problems(name: str, frame: pd.DataFrame) -> list[str]:
    try:
        SCHEMAS[name].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        return [
            f"{row.column or 'table'}: {row.check} (e.g. {str(row.failure_case)[:60]!r})"
            for row in cases.drop_duplicates(["column", "check"]).itertuples()
        ]
    return []


def _offset_problems(frame: pd.DataFrame, texts: dict[str, str], what: str) -> list[str]:
    problems = []
    for row in frame.itertuples(index=False):
        text = texts.get(row.document_id)
        if text is None:
            problems.append(f"{what} of unknown document {row.document_id}")
        elif row.end > len(text) or text[row.start : row.end] != row.text:
            problems.append(f"{what} {row.document_id}[{row.start}:{row.end}] does not match its text")
    return problems


def _split_problems(frame: pd.DataFrame, splits: dict[str, str], what: str) -> list[str]:
    wrong = frame[frame["document_id"].map(splits) != frame["split"]]
    return [
        f"{what} of {doc} in split {split}, its document in {splits.get(doc)}"
        for doc, split in zip(wrong["document_id"], wrong["split"], strict=False)
    ]


def _count_problems(manifest: Manifest, tables: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    docs, spans = tables["documents"], tables["spans"]
    for source, expected in EXPECTED_DOCUMENTS.items():
        if source not in manifest.sources:
            continue
        n = int((docs["source"] == source).sum())
        if abs(n - expected) > TOLERANCE * expected:
            problems.append(f"{source}: {n} documents, expected about {expected}")
    for source, expected in EXPECTED_SPANS.items():
        if source in manifest.sources:
            n = int((spans["source"] == source).sum())
            if abs(n - expected) > TOLERANCE * expected:
                problems.append(f"{source}: {n} spans, expected about {expected}")
    for source, expected in EXPECTED_SI_SPANS.items():
        if source in manifest.sources:
            n = int((tables["si_spans"]["source"] == source).sum())
            if abs(n - expected) > TOLERANCE * expected:
                problems.append(f"{source}: {n} propaganda spans, expected about {expected}")
    for (source, technique), (low, high) in EXPECTED_LABEL_SHARE.items():
        n_docs = int((docs["source"] == source).sum())
        if n_docs:
            labels = tables["doc_labels"]
            share = ((labels["source"] == source) & (labels["technique"] == technique)).sum() / n_docs
            if not low <= share <= high:
                problems.append(f"{source}: {technique} share {share:.2f} outside [{low}, {high}]")
    return problems


def validate_tables(tables: dict[str, pd.DataFrame], manifest: Manifest) -> ValidationReport:
    report = ValidationReport(manifest.folder)
    for name in TABLES:
        report.add(
            f"schema: {name}", _schema_problems(name, tables[name]), ok_detail=f"{len(tables[name])} rows"
        )
    docs = tables["documents"]
    texts = dict(zip(docs["document_id"], docs["text"], strict=False))
    report.add("span offsets match text", _offset_problems(tables["spans"], texts, "span"))
    report.add("propaganda span offsets match text", _offset_problems(tables["si_spans"], texts, "span"))
    report.add("sentence offsets match text", _offset_problems(tables["sentences"], texts, "sentence"))
    splits = dict(zip(docs["document_id"], docs["split"], strict=False))
    report.add(
        "no document in two splits",
        [
            p
            for name in ("spans", "doc_labels", "sentences")
            for p in _split_problems(tables[name], splits, name)
        ]
        + [f"duplicate document id {d}" for d in docs["document_id"][docs["document_id"].duplicated()]],
    )
    report.add(
        "near-duplicate texts across splits",
        [
            f"{manifest.near_duplicates} texts appear in more than one split "
            f"(see {Path(manifest.folder) / 'near_duplicates.csv'})"
        ]
        if manifest.near_duplicates
        else [],
        warn_only=True,
    )
    if manifest.max_documents is None:
        report.add("counts within expected ranges", _count_problems(manifest, tables))
    else:
        report.checks.append(
            Check(
                "counts within expected ranges",
                "pass",
                f"skipped: a sample of {manifest.max_documents} per split",
            )
        )
    return report


def validate_manifest(path: str | Path) -> ValidationReport:
    manifest = Manifest.read(Path(path))
    return validate_tables({name: manifest.table(name) for name in TABLES}, manifest)
