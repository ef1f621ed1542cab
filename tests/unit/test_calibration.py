"""ECE, reliability table and diagram on hand-made and synthetic data."""

from pathlib import Path

import numpy as np
import pytest

from mindlens.evaluation.calibration import (
    expected_calibration_error,
    reliability_diagram,
    reliability_table,
)


def test_exactly_calibrated_bins_give_zero():
    # bin [0.2,0.3): four at 0.25, one positive -> accuracy 0.25 = confidence
    # bin [0.7,0.8): four at 0.75, three positive -> accuracy 0.75 = confidence
    probs = [0.25] * 4 + [0.75] * 4
    outcomes = [1, 0, 0, 0, 1, 1, 1, 0]
    assert expected_calibration_error(probs, outcomes) == pytest.approx(0.0)


def test_synthetic_calibrated_data_is_near_zero():
    rng = np.random.default_rng(0)
    probs = rng.random(200_000)
    outcomes = (rng.random(probs.size) < probs).astype(int)
    assert expected_calibration_error(probs, outcomes) < 0.01


def test_over_confident_data_matches_hand_computation():
    # bin [0.9,1.0): five at 0.95, three positive -> |0.6 - 0.95| = 0.35, weight 5/10
    # bin [0.1,0.2): five at 0.15, none positive  -> |0.0 - 0.15| = 0.15, weight 5/10
    # ECE = 0.5 * 0.35 + 0.5 * 0.15 = 0.25
    probs = [0.95] * 5 + [0.15] * 5
    outcomes = [1, 1, 1, 0, 0] + [0] * 5
    assert expected_calibration_error(probs, outcomes) == pytest.approx(0.25)
    # with one bin everything pools: confidence 0.55, accuracy 0.3 -> 0.25 as well
    assert expected_calibration_error(probs, outcomes, n_bins=1) == pytest.approx(0.25)


def test_inputs_are_flattened():
    probs = np.array([[0.95, 0.15], [0.95, 0.15]])
    outcomes = np.array([[1, 0], [0, 0]])
    # [0.9,1): acc 0.5 vs 0.95 -> 0.45; [0.1,0.2): acc 0 vs 0.15 -> 0.15; mean 0.3
    assert expected_calibration_error(probs, outcomes) == pytest.approx(0.3)


def test_reliability_table_bins_and_edges():
    table = reliability_table([0.0, 0.05, 0.5, 1.0], [0, 0, 1, 1], n_bins=4)
    assert list(table.columns) == ["bin_lower", "bin_upper", "count", "mean_confidence", "accuracy"]
    assert table["bin_lower"].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert table["bin_upper"].tolist() == [0.25, 0.5, 0.75, 1.0]
    # 0.0 and 0.05 in the first bin, 0.5 opens the third, 1.0 falls in the last
    assert table["count"].tolist() == [2, 0, 1, 1]
    assert table.loc[0, "mean_confidence"] == pytest.approx(0.025)
    assert table.loc[0, "accuracy"] == 0.0
    assert np.isnan(table.loc[1, "accuracy"])


@pytest.mark.parametrize(
    "probs, outcomes",
    [
        ([0.5, 1.2], [0, 1]),
        ([0.5], [2]),
        ([0.5, 0.4], [1]),
        ([], []),
    ],
)
def test_bad_inputs_raise(probs, outcomes):
    with pytest.raises(ValueError):
        expected_calibration_error(probs, outcomes)


def test_reliability_diagram_writes_png(tmp_path: Path):
    rng = np.random.default_rng(1)
    probs = rng.random(500)
    outcomes = (rng.random(500) < probs).astype(int)
    path = reliability_diagram(probs, outcomes, tmp_path / "plots" / "rel.png", title="test")
    assert path == tmp_path / "plots" / "rel.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
