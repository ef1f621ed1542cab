"""Round trips and error messages for the official PTC label files."""

from pathlib import Path

import pytest
from conftest import data_dir

from mindlens.evaluation.ptc_format import (
    read_flc,
    read_si,
    read_tc,
    read_tc_template,
    score_file,
    write_flc,
    write_si,
    write_tc,
)

PTC = data_dir() / "ptc-semeval2020-task11" / "datasets"
needs_labels = pytest.mark.skipif(
    not (PTC / "train-task-flc-tc.labels").is_file(),
    reason="PTC label files not found under MINDLENS_DATA_DIR",
)


def test_si_round_trip(tmp_path: Path):
    spans = [("111", 0, 10), ("111", 20, 31), ("222", 5, 6)]
    path = write_si(tmp_path / "si.labels", spans)
    assert path.read_text() == "111\t0\t10\n111\t20\t31\n222\t5\t6\n"
    assert read_si(path) == spans


def test_flc_round_trip_uses_official_names_in_the_file(tmp_path: Path):
    spans = [("111", "name_calling", 0, 10), ("111", "bandwagon", 3, 8)]
    path = write_flc(tmp_path / "flc.labels", spans)
    assert path.read_text() == (
        "111\tName_Calling,Labeling\t0\t10\n111\tBandwagon,Reductio_ad_hitlerum\t3\t8\n"
    )
    assert read_flc(path) == spans


def test_write_flc_rejects_a_technique_ptc_lacks(tmp_path: Path):
    with pytest.raises(ValueError, match="clickbait"):
        write_flc(tmp_path / "x.labels", [("1", "clickbait", 0, 5)])


def test_tc_template_and_predictions_round_trip(tmp_path: Path):
    # write_tc takes the file's column order (id, technique, start, end) and keeps row order;
    # the readers return (id, start, end, technique), the tc_scores layout
    template = [("222", 4, 9, "doubt"), ("111", 0, 10, None), ("111", 0, 10, None)]
    path = write_tc(tmp_path / "template.out", [(a, t, s, e) for a, s, e, t in template])
    assert path.read_text().splitlines()[:2] == ["222\tDoubt\t4\t9", "111\t?\t0\t10"]
    assert read_tc_template(path) == template
    preds = [("111", 0, 10, "loaded_language"), ("111", 0, 10, "repetition"), ("222", 4, 9, "doubt")]
    path = write_tc(tmp_path / "pred.txt", [(a, t, s, e) for a, s, e, t in preds])
    assert path.read_text().splitlines()[1] == "111\tRepetition\t0\t10"
    assert read_tc(path) == preds
    with pytest.raises(ValueError, match=r"template\.out:2"):
        read_tc(tmp_path / "template.out")


@pytest.mark.parametrize(
    "line, message",
    [
        ("111\t0\n", "expected 3"),
        ("111\tzero\t10\n", "integers"),
        ("111\t10\t10\n", "start < end"),
        ("111\t12\t10\n", "start < end"),
    ],
)
def test_malformed_si_lines_name_file_and_line(tmp_path: Path, line: str, message: str):
    path = tmp_path / "bad.labels"
    path.write_text("111\t0\t5\n" + line)
    with pytest.raises(ValueError, match=message) as err:
        read_si(path)
    assert f"{path}:2" in str(err.value)


def test_malformed_flc_lines(tmp_path: Path):
    path = tmp_path / "bad.labels"
    path.write_text("111\tDoubt\t0\t5\n\n111\tNot_A_Technique\t0\t5\n")
    with pytest.raises(ValueError, match=r"bad\.labels:3.*Not_A_Technique"):
        read_flc(path)
    path.write_text("111\t0\t5\n")
    with pytest.raises(ValueError, match=r"bad\.labels:1: expected 4"):
        read_flc(path)


def test_score_file_on_hand_made_files(tmp_path: Path):
    gold = write_flc(tmp_path / "gold.labels", [("1", "doubt", 0, 10), ("1", "slogans", 20, 30)])
    pred = write_flc(tmp_path / "pred.labels", [("1", "doubt", 5, 15)])
    # FLC: P = (5/10)/1 = 0.5; R = (5/10 + 0)/2 = 0.25
    r = score_file("flc", gold, pred)
    assert (r["precision"], r["recall"]) == (pytest.approx(0.5), pytest.approx(0.25))
    # TC: gold rows as (id, start, end, technique); one right prediction of two gold
    tc_pred = write_tc(tmp_path / "tc.txt", [("1", "doubt", 0, 10)])
    r = score_file("tc", gold, tc_pred)
    assert (r["precision"], r["recall"]) == (pytest.approx(1.0), pytest.approx(0.5))
    si_gold = write_si(tmp_path / "si_gold.labels", [("1", 0, 10)])
    si_pred = write_si(tmp_path / "si_pred.labels", [("1", 5, 15)])
    assert score_file("si", si_gold, si_pred)["f1"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown task"):
        score_file("slc", si_gold, si_pred)  # type: ignore[arg-type]


@needs_labels
def test_reads_the_real_train_label_files(tmp_path: Path):
    flc = read_flc(PTC / "train-task-flc-tc.labels")
    si = read_si(PTC / "train-task-si.labels")
    assert flc[:2] == [
        ("111111111", "appeal_to_authority", 265, 323),
        ("111111111", "appeal_to_authority", 1795, 1935),
    ]
    assert si[0] == ("111111111", 265, 323)
    assert (len(flc), len(si)) == (6128, 5468)  # counts given in shared/datasets/README.md
    # writing back what was read reproduces the official file byte for byte
    original = (PTC / "train-task-flc-tc.labels").read_text(encoding="utf-8")
    assert write_flc(tmp_path / "copy.labels", flc).read_text(encoding="utf-8") == original
    # gold against itself scores 1 with every metric (the SI file has overlapping spans: merged)
    assert score_file("si", PTC / "train-task-si.labels", PTC / "train-task-si.labels")["f1"] == 1.0
    assert score_file("flc", PTC / "train-task-flc-tc.labels", PTC / "train-task-flc-tc.labels")[
        "f1"
    ] == pytest.approx(1.0)
    assert (
        score_file("tc", PTC / "train-task-flc-tc.labels", PTC / "train-task-flc-tc.labels")["micro_f1"]
        == 1.0
    )
