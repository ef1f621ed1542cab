"""The grouped validation protocol (validation/protocol.py) on small hand-made data."""

import math
import random
import statistics

import pytest

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest, build_tables, write_dataset
from mindlens.schema import Document, PropagandaSpan, SourceData, Span
from mindlens.validation import cross_validation as CV
from mindlens.validation import protocol as P

TOPICS = {
    "plague": "madagascar plague outbreak hospital doctors vaccine island fever",
    "border": "caravan migrants border wall troops razor asylum mexico",
    "election": "florida ballots fraud recount supervisor broward county votes",
    "comedy": "comedian jokes stage columbia students offensive routine crowd",
    "church": "pope bishops vatican abuse cardinal priests letter clergy",
    "court": "kavanaugh senate hearing judge nominee testimony allegation committee",
}
LOADED = [("traitors", "name_calling"), ("disgusting", "loaded_language"), ("invasion", "appeal_to_fear")]


def _article(
    doc_id: str, topic: str, rng: random.Random, split: str = "train"
) -> tuple[Document, list[Span]]:
    words = TOPICS[topic].split()
    own = ["".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(7)) for _ in range(12)]
    lines, spans = [f"{topic.title()} news {doc_id}", ""], []
    offset = len(lines[0]) + 2
    for i in range(6):
        sentence = " ".join([rng.choice(words) for _ in range(4)] + [rng.choice(own) for _ in range(4)])
        if i % 2 == 0:
            word, technique = LOADED[(i // 2) % len(LOADED)]
            start = offset + len(sentence) + 1
            spans.append((start, start + len(word), technique))
            sentence = f"{sentence} {word}."
        else:
            sentence += "."
        lines.append(sentence)
        offset += len(sentence) + 1
    text = "\n".join(lines) + "\n"
    return Document(doc_id, "ptc", text, split=split), [Span(doc_id, s, e, t) for s, e, t in spans]


def _corpus() -> SourceData:
    """Two articles per topic plus a near-verbatim re-publication of ptc:100."""
    rng = random.Random(7)
    docs, spans = [], []
    for i, topic in enumerate(sorted(TOPICS)):
        for j in range(2):
            doc, doc_spans = _article(f"ptc:{100 + 10 * i + j}", topic, rng)
            docs.append(doc)
            spans.extend(doc_spans)
    original = docs[0]
    copy = Document("ptc:999", "ptc", original.text.replace("news", "report", 1))
    shift = len(copy.text) - len(original.text)
    docs.append(copy)
    spans.extend(
        Span(copy.id, s.start + shift, s.end + shift, s.technique)
        for s in spans
        if s.document_id == original.id
    )
    unseen, unseen_spans = _article("ptc:5000", "plague", rng, split="unlabelled")
    docs.append(unseen)
    propaganda = [PropagandaSpan(s.document_id, s.start, s.end) for s in spans]
    return SourceData(
        "ptc",
        docs,
        spans=spans,
        propaganda_spans=propaganda,
        label_space=tuple(sorted({t for _, t in LOADED})),
    )


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Manifest:
    tables = build_tables([_corpus()], 0.25, seed=1)
    return write_dataset(
        tables, tmp_path_factory.mktemp("data"), label_spaces={"ptc": [t for _, t in LOADED]}
    )


def _groups(n_docs: int = 40, n_groups: int = 15, seed: int = 0) -> dict[str, str]:
    rng = random.Random(seed)
    return {f"ptc:{i:03d}": f"g{rng.randrange(n_groups)}" for i in range(n_docs)}


# --- groups -----------------------------------------------------------------------------
def test_near_duplicate_detection_groups_a_planted_pair(manifest):
    docs = P.labelled_articles(manifest)
    groups = P.near_duplicate_groups(docs["document_id"].tolist(), docs["text"].tolist(), 0.9)
    assert groups["ptc:999"] == groups["ptc:100"] == "ptc:100"
    others = [g for d, g in groups.items() if d not in ("ptc:100", "ptc:999")]
    assert len(set(others)) == len(others)  # nothing else is that close


def test_a_lower_threshold_joins_same_topic_articles(manifest):
    docs = P.labelled_articles(manifest)
    groups = P.near_duplicate_groups(docs["document_id"].tolist(), docs["text"].tolist(), 0.2)
    assert groups["ptc:100"] == groups["ptc:101"]  # same topic, different words
    assert groups["ptc:100"] != groups["ptc:110"]  # another topic


def test_groups_do_not_depend_on_input_order(manifest):
    docs = P.labelled_articles(manifest)
    ids, texts = docs["document_id"].tolist(), docs["text"].tolist()
    reverse = P.near_duplicate_groups(ids[::-1], texts[::-1], 0.2)
    assert P.near_duplicate_groups(ids, texts, 0.2) == reverse


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        P.near_duplicate_groups(["ptc:1", "ptc:1"], ["a b", "a b"], 0.5)


# --- folds ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_groups_never_straddle_folds_and_each_article_is_scored_once(seed):
    groups = _groups(seed=seed)
    folds = P.grouped_folds(groups, 5, seed)
    scored = [d for f in folds for d in f.test]
    assert sorted(scored) == sorted(groups)  # every article exactly once
    for fold in folds:
        assert not set(fold.train) & set(fold.test)
        assert set(fold.train) | set(fold.test) == set(groups)
        test_groups = {groups[d] for d in fold.test}
        assert not {groups[d] for d in fold.train} & test_groups


def test_folds_are_deterministic_for_a_seed():
    groups = _groups()
    assert P.grouped_folds(groups, 4, 13) == P.grouped_folds(dict(reversed(groups.items())), 4, 13)
    assert P.grouped_folds(groups, 4, 13) != P.grouped_folds(groups, 4, 14)


def test_folds_balance_their_weight():
    groups = _groups(60, 30)
    weights = {d: float(1 + i % 7) for i, d in enumerate(sorted(groups))}
    folds = P.grouped_folds(groups, 3, 5, weights)
    loads = [sum(weights[d] for d in f.test) for f in folds]
    biggest = max(sum(w for d, w in weights.items() if groups[d] == g) for g in set(groups.values()))
    assert max(loads) - min(loads) <= biggest


def test_too_few_groups_for_k_folds_is_an_error():
    with pytest.raises(ValueError, match="groups"):
        P.grouped_folds({"a": "g1", "b": "g1", "c": "g2"}, 3, 0)


def test_holdout_is_grouped_and_disjoint_from_training():
    groups = _groups(50, 20)
    outer = P.holdout(groups, 0.2, 13)
    assert not set(outer.train) & set(outer.test)
    assert set(outer.train) | set(outer.test) == set(groups)
    assert not {groups[d] for d in outer.train} & {groups[d] for d in outer.test}
    assert 0.1 <= len(outer.test) / len(groups) <= 0.3
    assert outer == P.holdout(groups, 0.2, 13)
    inner = P.inner_split(outer, groups, 0.2, 13)
    assert set(inner.train) | set(inner.test) == set(outer.train)
    assert not (set(inner.train) | set(inner.test)) & set(outer.test)
    assert not {groups[d] for d in inner.train} & {groups[d] for d in inner.test}


# --- statistics -------------------------------------------------------------------------
def test_mean_and_sample_sd():
    mean, sd = CV.mean_sd([0.4, 0.5, 0.6, 0.7])
    assert mean == pytest.approx(0.55)
    assert sd == pytest.approx(statistics.stdev([0.4, 0.5, 0.6, 0.7]))
    assert CV.mean_sd([0.5, float("nan")]) == (0.5, pytest.approx(float("nan"), nan_ok=True))
    assert all(math.isnan(v) for v in CV.mean_sd([]))


def test_cv_result_summary_and_table():
    result = CV.CVResult(
        "m", "tfidf", {}, [{"tc_micro_f1": 0.5, "si_f1": 0.2}, {"tc_micro_f1": 0.7, "si_f1": 0.4}]
    )
    summary = result.summary()
    assert summary["tc_micro_f1"][0] == pytest.approx(0.6)
    assert summary["tc_micro_f1"][1] == pytest.approx(statistics.stdev([0.5, 0.7]))
    assert "0.600 ± 0.141" in CV.cv_table([result])
    assert "flc_f1" not in summary


# --- runner -----------------------------------------------------------------------------
def test_fold_dataset_holds_exactly_the_fold(manifest, tmp_path):
    docs = P.labelled_articles(manifest)["document_id"].tolist()
    fold = P.Fold(0, tuple(docs[:8]), tuple(docs[8:]))
    dataset = P.fold_dataset(manifest, fold, tmp_path)
    splits = dataset.table("documents").set_index("document_id")["split"].to_dict()
    assert splits == {d: "train" for d in fold.train} | {d: "val" for d in fold.test}
    spans = dataset.table("spans")
    assert set(spans.loc[spans["split"] == "val", "document_id"]) <= set(fold.test)


def test_cross_validate_scores_every_article_once(manifest):
    settings = get_settings()
    groups = P.ptc_groups(manifest, settings)
    folds = P.grouped_folds(groups, 3, 0)
    result = CV.cross_validate(P.TC_PROBE, {"min_df": 1}, manifest, settings, folds=folds, progress=False)
    assert sum(row["n_articles"] for row in result.folds) == len(groups)
    assert sum(row["n_spans"] for row in result.folds) == len(manifest.table("spans"))
    for row in result.folds:
        assert 0.0 <= row["tc_micro_f1"] <= 1.0
    # one loaded word per technique: the probe learns them
    assert result.summary()["tc_micro_f1"][0] > 0.9


def test_cross_validate_runs_the_tfidf_analyzer_through_the_evaluation(manifest):
    settings = get_settings()
    docs = P.labelled_articles(manifest)["document_id"].tolist()
    folds = P.grouped_folds({d: d for d in docs}, 2, 0)
    result = CV.cross_validate("tfidf", {"min_df": 1}, manifest, settings, folds=folds, progress=False)
    assert {"tc_micro_f1", "si_f1", "flc_f1", "micro_f1"} <= set(result.summary())
    assert "latency_p95_ms" not in result.folds[0]


def test_slow_families_are_refused(manifest):
    with pytest.raises(ValueError, match="holdout"):
        CV.fold_scores("multitask", {}, manifest, P.Fold(0, ("ptc:100",), ("ptc:110",)), get_settings())


def test_holdout_dataset_has_inner_val_and_a_scored_test_part(manifest, tmp_path):
    settings = get_settings(protocol={"similarity_threshold": 0.9, "holdout_fraction": 0.25})
    dataset, outer, inner = P.holdout_dataset(manifest, settings, tmp_path)
    docs = dataset.table("documents")
    ptc = docs[docs["source"] == "ptc"].set_index("document_id")["split"]
    assert set(ptc[ptc == "test"].index) == set(outer.test)
    assert set(ptc[ptc == "val"].index) == set(inner.test)
    assert set(ptc[ptc == "train"].index) == set(inner.train)
    assert ptc["ptc:100"] == ptc["ptc:999"]  # the planted pair stays together


def test_protocol_settings_and_overrides(monkeypatch):
    settings = get_settings()
    assert settings.protocol.k == 5 and 0 < settings.protocol.similarity_threshold < 1
    monkeypatch.setenv("MINDLENS_PROTOCOL__K", "3")
    from mindlens.config import reset_settings_cache

    reset_settings_cache()
    assert get_settings().protocol.k == 3


def test_folds_command_writes_the_assignment(manifest, tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    import pandas as pd
    from typer.testing import CliRunner

    from mindlens.cli.protocol import protocol_app
    from mindlens.config import reset_settings_cache

    state = tmp_path / "state"
    shutil.copytree(Path(manifest.folder), state / "data")
    text = (state / "data" / "manifest.json").read_text().replace(manifest.folder, str(state / "data"))
    (state / "data" / "manifest.json").write_text(text)
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(state))
    reset_settings_cache()
    out = tmp_path / "folds.csv"
    result = CliRunner().invoke(protocol_app, ["folds", "--k", "3", "--threshold", "0.9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 13 and frame["fold"].nunique() == 3
    pair = frame.set_index("document_id").loc[["ptc:100", "ptc:999"]]
    assert pair["fold"].nunique() == 1 and pair["holdout_part"].nunique() == 1


def test_paired_difference_uses_the_same_folds():
    a = CV.CVResult("a", "tfidf", {}, [{"fold": 0, "flc_f1": 0.30}, {"fold": 1, "flc_f1": 0.10}])
    b = CV.CVResult("b", "tfidf", {}, [{"fold": 1, "flc_f1": 0.08}, {"fold": 0, "flc_f1": 0.26}])
    mean, sd = CV.paired_difference(a, b, "flc_f1")
    assert mean == pytest.approx(0.03)
    assert sd == pytest.approx(statistics.stdev([0.04, 0.02]))
