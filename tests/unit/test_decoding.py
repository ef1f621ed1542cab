"""Decoding network outputs into fragments (numpy only, shared by torch and ONNX)."""

from __future__ import annotations

import numpy as np
import pytest

from mindlens.models.decoding import FoundSpan, decode_spans, merge_spans, tidy_spans


def test_decode_spans_runs_per_technique_break_on_empty_offsets() -> None:
    offsets = [(0, 0), (0, 4), (5, 9), (0, 0), (10, 14)]  # special tokens have empty offsets
    probs = np.array([[0.9, 0.1], [0.8, 0.1], [0.6, 0.7], [0.9, 0.9], [0.7, 0.2]])
    spans = decode_spans(offsets, probs, ["a", "b"], threshold=0.5, base=100)
    assert [(s.start, s.end, s.technique) for s in spans] == [
        (100, 109, "a"),
        (110, 114, "a"),
        (105, 109, "b"),
    ]
    assert spans[0].confidence == pytest.approx(0.7)


def test_merge_spans_joins_overlaps_of_one_technique() -> None:
    merged = merge_spans([FoundSpan(0, 10, "a", 0.6), FoundSpan(5, 20, "a", 0.9), FoundSpan(5, 8, "b", 0.5)])
    assert merged == [FoundSpan(0, 20, "a", 0.9), FoundSpan(5, 8, "b", 0.5)]


def test_tidy_spans_snaps_joins_and_drops() -> None:
    """Fragments end on word boundaries, close pieces of one technique become one fragment
    (not across a sentence break), lone short words go."""
    text = "The expats are evil, corrupt traitors. Its the end; the end of it."
    at = text.index
    pieces = [
        FoundSpan(at("expats"), at("expats") + 2, "name_calling", 0.9),  # "ex": inside a word
        FoundSpan(at("evil"), at("evil") + 4, "loaded_language", 0.8),
        FoundSpan(at("traitors"), at("traitors") + 8, "loaded_language", 0.95),  # joins "evil"
        FoundSpan(at("Its"), at("Its") + 3, "doubt", 0.9),  # too short
        FoundSpan(at("the end;"), at("the end;") + 7, "slogans", 0.7),
        FoundSpan(at("the end of"), at("the end of") + 10, "slogans", 0.6),
    ]  # ";" between
    got = {(text[s.start : s.end], s.technique, s.confidence) for s in tidy_spans(text, pieces)}
    assert got == {
        ("expats", "name_calling", 0.9),
        ("evil, corrupt traitors", "loaded_language", 0.95),
        ("the end", "slogans", 0.7),
        ("the end of", "slogans", 0.6),
    }
