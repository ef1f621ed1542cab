"""Error analysis on a hand-made predictions table; every expected number is worked out below."""

from __future__ import annotations

import pandas as pd
import pytest

from mindlens.evaluation import error_analysis as ea
from mindlens.evaluation.predictions import prob_columns

LL, NC, D, S = "loaded_language", "name_calling", "doubt", "slogans"
FW = "flag_waving"
LABELS = [LL, NC, D, S]  # traits: LL emotional_language; NC, D attacks_on_people; S slogans_and_repetition

LONG_QUOTE = (
    'At the rally she said "we will take our country back from the elites" and the crowd, '
    "waving flags, cheered for minutes on end."
)
MEDIUM = "Another traitor, he said 'sold out' every single person in this town for cash."

# (source, text, gold, pred, probabilities in LABELS order); a label is predicted at >= 0.5.
ROWS = [
    ("ptc", "He is a traitor.", [NC], [LL], (0.80, 0.30, 0.10, 0.05)),  # R0
    ("ptc", "Nothing to see here.", [], [], (0.10, 0.10, 0.10, 0.10)),  # R1
    ("ptc", "Can we trust them?", [D, LL], [D], (0.20, 0.10, 0.90, 0.10)),  # R2
    ("semeval", "Make it great.", [], [S], (0.10, 0.10, 0.10, 0.70)),  # R3
    ("semeval", LONG_QUOTE, [LL], [LL, NC], (0.95, 0.60, 0.10, 0.10)),  # R4
    ("ptc", MEDIUM, [NC], [LL], (0.65, 0.45, 0.10, 0.10)),  # R5
    ("ptc", "It's the people's choice.", [D], [], (0.10, 0.10, 0.35, 0.10)),  # R6
    ("semeval", "They lie.", [D], [NC], (0.10, 0.72, 0.25, 0.10)),  # R7
]


def make_frame(rows=ROWS, labels=LABELS) -> pd.DataFrame:
    records = []
    for i, (source, text, gold, pred, probs) in enumerate(rows):
        records.append(
            {
                "document_id": f"doc{i}",
                "source": source,
                "split": "val",
                "sentence_index": 0,
                "start": 0,
                "end": len(text),
                "text": text,
                "gold": gold,
                "pred": pred,
                **dict(zip(prob_columns(labels), probs, strict=False)),
            }
        )
    return pd.DataFrame(records)


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame()


def test_per_technique_scores_and_names(frame):
    per = ea.per_technique(frame, LABELS)
    assert list(per.index) == ["Loaded language", "Name calling / labeling", "Doubt", "Slogans"]
    # LL: gold R2,R4; pred R0,R4,R5 -> tp1 fp2 fn1 -> P 1/3, R 1/2, F1 0.4
    assert per.loc["Loaded language", "precision"] == pytest.approx(1 / 3)
    assert per.loc["Loaded language", "recall"] == pytest.approx(0.5)
    assert per.loc["Loaded language", "f1"] == pytest.approx(0.4)
    # D: gold R2,R6,R7; pred R2 -> P 1, R 1/3, F1 0.5
    assert per.loc["Doubt", "f1"] == pytest.approx(0.5)
    assert per["support"].tolist() == [2, 2, 3, 0]


def test_per_trait_rolls_techniques_up(frame):
    per = ea.per_trait(frame)
    # clickbait, faulty reasoning, authority: neither gold nor predicted -> left out
    assert list(per.index) == ["emotional_language", "attacks_on_people", "slogans_and_repetition"]
    # attacks: gold R0,R2,R5,R6,R7; pred R2,R4,R7 (R7 doubt->name calling is right at trait level)
    # -> tp2 fp1 fn3 -> P 2/3, R 2/5, F1 0.5
    assert per.loc["attacks_on_people", "precision"] == pytest.approx(2 / 3)
    assert per.loc["attacks_on_people", "recall"] == pytest.approx(0.4)
    assert per.loc["attacks_on_people", "f1"] == pytest.approx(0.5)
    assert per.loc["emotional_language", "f1"] == pytest.approx(0.4)
    assert per["support"].tolist() == [2, 5, 0]
    assert per.loc["slogans_and_repetition", ["precision", "recall", "f1"]].tolist() == [0, 0, 0]


def test_confusion_matrix_counts_pairs_and_none(frame):
    m = ea.confusion_matrix(frame, LABELS)
    assert list(m.index) == [*LABELS, "none"] and list(m.columns) == [*LABELS, "none"]
    expected = {
        (NC, LL): 2,  # R0, R5
        ("none", "none"): 1,  # R1
        (D, D): 1,
        (LL, D): 1,  # R2: every gold x every predicted
        ("none", S): 1,  # R3: prediction on a sentence without gold
        (LL, LL): 1,
        (LL, NC): 1,  # R4
        (D, "none"): 1,  # R6: gold with no prediction
        (D, NC): 1,  # R7
    }
    for (g, p), n in expected.items():
        assert m.loc[g, p] == n, (g, p)
    assert m.to_numpy().sum() == sum(expected.values())


def test_confusion_matrix_keeps_gold_outside_the_model_labels():
    frame = make_frame([("ptc", "x", ["clickbait"], [LL], (0.9,))], labels=[LL])
    m = ea.confusion_matrix(frame, [LL])
    assert list(m.index) == [LL, "clickbait", "none"]
    assert m.loc["clickbait", LL] == 1


def test_confusion_figure_writes_png(frame, tmp_path):
    path = ea.confusion_figure(ea.confusion_matrix(frame, LABELS), tmp_path / "figs" / "cm.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_supported_leaves_out_techniques_absent_from_the_data(frame):
    per = ea.per_technique(frame, [*LABELS, FW])  # flag-waving: in the model, not in the data
    # slogans: no gold either (only R3's false alarm): no recall to plot
    assert list(ea.supported(per).index) == ["Loaded language", "Name calling / labeling", "Doubt"]
    assert ea.unsupported_note(per) == (
        "left out of the plot, no support in the data scored: Slogans, Flag-waving"
    )
    assert ea.unsupported_note(ea.supported(per)) == ""
    counts = pd.Series({"Doubt": 3})  # counts per row given apart; missing rows count 0
    assert list(ea.supported(per, counts).index) == ["Doubt"]


def test_plotted_confusions_drop_empty_techniques_but_keep_false_alarms(frame):
    m = ea.confusion_matrix(frame, [*LABELS, FW])
    shown = ea.plotted_confusions(m)
    assert list(shown.index) == [LL, NC, D, "none"]  # S and FW have no gold
    assert list(shown.columns) == [LL, NC, D, S, "none"]  # S predicted (R3); FW never
    assert shown.to_numpy().sum() == m.to_numpy().sum()  # nothing counted is lost
    empty = m * 0  # nothing scored
    assert ea.plotted_confusions(empty).shape == empty.shape


def test_top_confusions_counts_missed_gold_against_false_alarms(frame):
    top = ea.top_confusions(frame, k=10, examples=1)
    # R0, R5: NC missed, LL false alarm; R7: D missed, NC false alarm. R2 (LL missed, nothing
    # spurious) and R4 (NC spurious, nothing missed) are not mix-ups.
    assert top[["gold", "predicted", "count"]].values.tolist() == [[NC, LL, 2], [D, NC, 1]]
    assert top.loc[0, "examples"] == ["He is a traitor."]
    assert ea.top_confusions(frame, k=1, examples=3).loc[0, "examples"] == ["He is a traitor.", MEDIUM]
    assert len(ea.top_confusions(frame, k=1)) == 1


def test_slice_by_length(frame):
    assert len(MEDIUM) in range(60, 120) and len(LONG_QUOTE) in range(120, 200)
    report = ea.slice_report(frame, "length", LABELS)
    assert list(report.index) == ["<60", "60-119", "120-199"]  # empty >=200 left out, order kept
    assert report["n"].tolist() == [6, 1, 1]
    # <60: R0 fp+fn, R2 tp+fn, R3 fp, R6 fn, R7 fp+fn -> tp1 fp3 fn4 -> P .25 R .2 F1 2/9
    assert report.loc["<60", "precision"] == pytest.approx(0.25)
    assert report.loc["<60", "recall"] == pytest.approx(0.2)
    assert report.loc["<60", "f1"] == pytest.approx(2 / 9)
    assert report.loc["60-119", "f1"] == 0.0
    assert report.loc["120-199", "f1"] == pytest.approx(2 / 3)  # R4: tp1 fp1


def test_slice_by_source(frame):
    report = ea.slice_report(frame, "source", LABELS)
    assert list(report.index) == ["ptc", "semeval"] and report["n"].tolist() == [5, 3]
    assert report.loc["ptc", "f1"] == pytest.approx(0.25)  # tp1 fp2 fn4
    assert report.loc["semeval", "f1"] == pytest.approx(1 / 3)  # tp1 fp3 fn1


def test_slice_by_quotation(frame):
    report = ea.slice_report(frame, "quotation", LABELS)
    assert list(report.index) == [True, False] and report["n"].tolist() == [2, 6]
    assert report.loc[True, "f1"] == pytest.approx(0.4)  # R4, R5: tp1 fp2 fn1


def test_slice_by_frequency_scores_each_group_on_its_own_columns(frame):
    report = ea.slice_report(frame, "frequency", LABELS)
    # support S 0, LL 2, NC 2, D 3 -> thirds [S, LL], [NC], [D]
    assert list(report.index) == ["rare", "medium", "frequent"]
    assert report["techniques"].tolist() == [[S, LL], [NC], [D]]
    assert report["support"].tolist() == [2, 2, 3]
    assert report.loc["rare", "f1"] == pytest.approx(1 / 3)  # tp1 fp3 fn1
    assert report.loc["medium", "f1"] == 0.0
    assert report.loc["frequent", "f1"] == pytest.approx(0.5)


def test_slice_by_unknown_raises(frame):
    with pytest.raises(ValueError, match="unknown slice"):
        ea.slice_report(frame, "colour", LABELS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        'He called it "a disgrace".',
        "\u201cWe will never surrender,\u201d she said.",
        "\u201eNein\u201c, sagte er.",
        "\u00abNon\u00bb, dit-il.",
        "He said: 'we will win'.",
        "She told reporters 'no comment' and left.",
        "The minister said \u2018enough\u2019.",
    ],
)
def test_quotation_pattern_finds_quotes(text):
    assert ea.has_quotation(text)


@pytest.mark.parametrize(
    "text",
    [
        "It's the people's choice.",
        "He said that the workers' pay would rise.",
        "They don't care, she said.",
        "Rock 'n' roll never dies.",  # an opening single quote, but no speech verb before it
    ],
)
def test_quotation_pattern_ignores_apostrophes(text):
    assert not ea.has_quotation(text)


def test_confident_errors_order(frame):
    fps, fns = ea.confident_errors(frame, LABELS, n=3)
    # false positives by probability, highest first: R0 LL .80, R7 NC .72, R3 S .70 (R5 .65, R4 .60 cut)
    assert fps[["text", "technique"]].values.tolist() == [
        ["He is a traitor.", LL],
        ["They lie.", NC],
        ["Make it great.", S],
    ]
    assert fps["confidence"].tolist() == pytest.approx([0.80, 0.72, 0.70])
    # false negatives by probability, lowest first: R2 LL .20, R7 D .25, R0 NC .30
    assert fns[["text", "technique"]].values.tolist() == [
        ["Can we trust them?", LL],
        ["They lie.", D],
        ["He is a traitor.", NC],
    ]
    assert fns["confidence"].tolist() == pytest.approx([0.20, 0.25, 0.30])
    all_fps, all_fns = ea.confident_errors(frame, LABELS, n=100)
    assert len(all_fps) == 5 and len(all_fns) == 5


def test_data_needs_orders_by_f1_and_names_the_error(frame):
    needs = ea.data_needs(frame, LABELS)
    # slogans: F1 0 (1 fp); emotional: F1 .4 (fn1 fp2); attacks: F1 .5 (fn3 fp1)
    assert needs["trait"].tolist() == ["slogans_and_repetition", "emotional_language", "attacks_on_people"]
    assert needs["dominant_error"].tolist() == ["false positives", "false positives", "false negatives"]
    assert needs[["false_negatives", "false_positives"]].values.tolist() == [[0, 1], [1, 2], [3, 1]]
    # attacks: NC missed twice (R0, R5), D twice (R6, R7); tie keeps label order
    assert needs.loc[2, "focus"] == [NC, D]
    assert needs.loc[2, "recommendation"].startswith("add curated positives for attacks on people")
    assert "Name calling / labeling" in needs.loc[2, "recommendation"]
    assert needs.loc[1, "recommendation"].startswith("add hard negatives for emotional language")
    assert needs.loc[1, "focus"] == [LL]


def test_data_needs_puts_error_free_traits_last():
    rows = [
        ("ptc", "a", [LL], [LL], (0.9, 0.1, 0.1)),
        ("ptc", "b", [], [], (0.1, 0.1, 0.1)),
        ("ptc", "c", [D], [], (0.1, 0.1, 0.2)),
    ]
    # attacks: one miss; slogans: no support, no errors (F1 0); emotional: perfect (F1 1)
    needs = ea.data_needs(make_frame(rows, [LL, S, D]), [LL, S, D])
    assert needs["trait"].tolist() == ["attacks_on_people", "slogans_and_repetition", "emotional_language"]
    assert needs["dominant_error"].tolist() == ["false negatives", "none", "none"]
    assert needs.loc[1, "recommendation"].startswith("no slogans and repetition in this split")
    assert needs.loc[2, "recommendation"] == "no errors here: no new data needed"
