"""The validation-gap analysis (``mindlens protocol analyse``) on a real PTC slice: every
section is written, and the grouped folds do what they promise (no held-out article has a
training article of its story)."""

import json

import pytest
from conftest import needs_ptc

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest
from mindlens.data.prepare import prepare_dataset
from mindlens.validation.gap import analyse

pytestmark = [needs_ptc, pytest.mark.slow]


def test_analysis_writes_every_section_and_grouped_folds_hold(tmp_path) -> None:
    settings = get_settings(state_dir=tmp_path / "state")
    written = prepare_dataset(settings, max_documents=30, sources=["ptc"])
    manifest = Manifest.read(written.folder)
    report = analyse(
        manifest,
        settings,
        tmp_path / "gap",
        seeds=2,
        thresholds=(0.25,),
        probe_params={"min_df": 1},
        progress=False,
    )
    for section in range(1, 9):
        assert f"## {section}." in report.markdown
    for path in report.files.values():
        assert path.is_file() and path.stat().st_size > 0
    numbers = json.loads(report.files["json"].read_text())
    threshold = settings.protocol.similarity_threshold
    grouped = numbers["nearest_neighbour"][f"grouped 5-fold (t={threshold}) held-out -> its train"]
    assert grouped["max"] < threshold  # a story never straddles a grouped fold
    random = numbers["nearest_neighbour"]["random 5-fold held-out -> its train"]
    assert random["quantiles"]["0.5"] > grouped["quantiles"]["0.5"]
    summary = numbers["candidates"]["tfidf"]["grouped"]["summary"]
    assert 0.0 <= summary["tc_micro_f1"]["mean"] <= 1.0 and summary["tc_micro_f1"]["sd"] >= 0.0
