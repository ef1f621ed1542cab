"""Decoding tuned on a real (tiny, random) tagger: the credit table's sums equal a full
decode scored by the official FLC rules, and tuning returns a decoding for every technique
with grouped-fold scores for both decodings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tiny_tagger import LABELS, tiny_tagger

from mindlens.validation import tune_decoding
from mindlens.validation.tune_decoding import Grid, Sentences

pytest.importorskip("torch")

SENTENCES = [
    "The corrupt elite will destroy our great nation.",
    "Only traitors and cowards would doubt this glorious plan.",
    "The meeting starts at noon in the town hall.",
    "They are liars, thieves and enemies of the people!",
    "Rain is expected tomorrow across the region.",
    "Make our country great again, stand up now!",
]


def _sentences(tagger) -> Sentences:
    rows, gold = [], []
    for d in range(6):  # six articles of two sentences, offsets as in the article
        first, second = SENTENCES[d], SENTENCES[(d + 3) % 6]
        doc = f"doc{d}"
        rows += [(doc, 0, first), (doc, len(first) + 1, second)]
        word = first.split()[1]
        start = first.index(word)
        gold.append((doc, LABELS[d % len(LABELS)], start, start + len(word)))
        gold.append((doc, LABELS[(d + 1) % len(LABELS)], len(first) + 1, len(first) + 1 + len(second) - 1))
    frame = pd.DataFrame(rows, columns=["document_id", "start", "text"])
    spans = pd.DataFrame(gold, columns=["document_id", "technique", "start", "end"])
    return Sentences(
        frame, tagger.infer(frame["text"].tolist()), spans, spans[["document_id", "start", "end"]]
    )


GRID = Grid(
    thresholds=(0.45, 0.5, 0.55),
    switch_costs=(0.0, 1.0),
    sentence_weights=(0.0, 0.5),
    join_gaps=(0, 25),
    min_chars=(4, 12),
)


def test_credit_table_sums_equal_a_full_decode() -> None:
    tagger = tiny_tagger()
    sentences = _sentences(tagger)
    table = tune_decoding.search_table(tagger, sentences, GRID, progress=False)
    rng = np.random.default_rng(0)
    docs = np.arange(len(table.documents))
    checked = 0
    for _ in range(6):
        choice = list(rng.integers(0, len(table.options), size=len(table.labels)))
        fragments = tune_decoding._fragments(tagger, sentences, table.decoding(choice), 0.0)
        expected = tune_decoding.span_scores(fragments, sentences)["flc_f1"]
        assert table.f1(choice, docs) == pytest.approx(expected, abs=1e-9)
        checked += bool(fragments)
    assert checked  # the random tagger found fragments for some choices


def test_tune_scores_both_decodings_on_grouped_folds() -> None:
    tagger = tiny_tagger()
    sentences = _sentences(tagger)
    groups = {f"doc{d}": f"story{d // 2}" for d in range(6)}  # three stories of two articles
    result = tune_decoding.tune(tagger, sentences, groups, k=3, seed=1, grid=GRID, progress=False)
    assert len(result.folds) == 3
    assert all(f["articles"] == 2 for f in result.folds)
    assert set(result.decoding.thresholds) == set(LABELS)
    summary = result.summary()
    assert set(summary) == {"own", "tuned"} and "flc_f1" in summary["tuned"]
    table = tune_decoding.summary_table(result)
    assert "grouped 3-fold" in table and "FLC gain on the same folds" in table
    # the chosen decoding is what the tagger applies once saved in its config
    tagger.config.decoding = result.decoding.to_dict()
    assert tagger.decoding == result.decoding
