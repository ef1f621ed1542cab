"""`mindlens data fetch|prepare|validate|stats` on the real datasets, in a private state folder."""

import pandas as pd
import pytest
from conftest import needs_ptc
from typer.testing import CliRunner

from mindlens.cli import app
from mindlens.config import reset_settings_cache

pytestmark = needs_ptc
runner = CliRunner()


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    return tmp_path


def test_fetch_prepare_validate_stats(state):
    fetched = runner.invoke(app, ["data", "fetch"])
    assert fetched.exit_code == 0, fetched.output
    assert "ptc:" in fetched.output and "downloaded" not in fetched.output  # all local, offline

    prepared = runner.invoke(app, ["data", "prepare", "--max-documents", "30"])
    assert prepared.exit_code == 0, prepared.output
    for source in ("ptc/train", "semeval2021/val", "clickbait/val", "logic/train"):
        assert source in prepared.output

    validated = runner.invoke(app, ["data", "validate"])
    assert validated.exit_code == 0, validated.output
    assert "OK:" in validated.output and "FAIL " not in validated.output

    stats = runner.invoke(app, ["data", "stats", "--chart", str(state / "chart.png")])
    assert stats.exit_code == 0, stats.output
    assert "clickbait" in stats.output and "loaded_language" in stats.output
    assert (state / "chart.png").read_bytes()[:4] == b"\x89PNG"


def test_validate_fails_with_a_readable_report_on_corrupted_data(state):
    assert runner.invoke(app, ["data", "prepare", "--max-documents", "10"]).exit_code == 0
    spans_path = state / "data" / "spans.parquet"
    spans = pd.read_parquet(spans_path)
    spans.loc[0, "end"] = spans.loc[0, "end"] + 3  # offsets no longer match the stored text
    spans.to_parquet(spans_path, index=False)
    result = runner.invoke(app, ["data", "validate"])
    assert result.exit_code == 1
    assert "FAIL  span offsets match text" in result.output


def test_commands_before_prepare_explain_what_to_run(state):
    result = runner.invoke(app, ["data", "validate"])
    assert result.exit_code == 1 and "mindlens data prepare" in result.output
    result = runner.invoke(app, ["data", "fetch", "--source", "nope"])
    assert result.exit_code == 1 and "unknown data source" in result.output
