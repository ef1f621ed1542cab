"""``mindlens monitoring reference`` on a release folder: the reference is computed by the
real analyzer on the prepared validation split, and the release's checksums still verify."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow


def test_reference_for_a_release_folder_keeps_its_checksums_valid(champion_settings, tmp_path: Path):
    from mindlens.cli import app
    from mindlens.models.analyzer import find_bundle
    from mindlens.monitoring.drift import CATEGORIES, REFERENCE_FILE, Reference
    from mindlens.registry.registry import download_champion
    from mindlens.training.release import read_release, write_release

    _, downloaded = download_champion(champion_settings, tmp_path / "download")
    folder = find_bundle(downloaded).parent  # the analyzer bundle, as in models/v1
    write_release(folder, version="0.0.1", changelog="test", metrics={"val_flc_f1": 0.1})

    result = CliRunner().invoke(app, ["monitoring", "reference", str(folder), "--max-texts", "12"])
    assert result.exit_code == 0, result.output
    release = read_release(folder)  # raises if a checksum no longer matches
    assert REFERENCE_FILE in release["files"] and release["version"] == "0.0.1"
    reference = Reference.load(folder / REFERENCE_FILE)
    assert 0 < reference.texts <= 12
    assert sum(reference.counts["input_length"].values()) == reference.texts
    assert set(reference.counts["techniques"]) <= set(CATEGORIES["techniques"])
