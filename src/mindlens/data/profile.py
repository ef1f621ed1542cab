"""Profiling helpers for the data report (notebooks/data_profile.ipynb)."""

from __future__ import annotations

import pandas as pd


def span_overlaps(spans: pd.DataFrame) -> pd.DataFrame:
    """Per source: spans, and how many overlap another span of the same or of a
    different technique in the same document."""
    rows = []
    for source, group in spans.groupby("source"):
        same = different = 0
        for _, doc in group.groupby("document_id"):
            items = list(zip(doc["start"], doc["end"], doc["technique"], strict=False))
            for i, (start, end, technique) in enumerate(items):
                others = [t for j, (s, e, t) in enumerate(items) if j != i and s < end and start < e]
                same += any(t == technique for t in others)
                different += any(t != technique for t in others)
        rows.append(
            {
                "source": source,
                "spans": len(group),
                "overlap_same_technique": same,
                "overlap_other_technique": different,
            }
        )
    return pd.DataFrame(rows).set_index("source") if rows else pd.DataFrame()
