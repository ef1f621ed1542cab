"""`mindlens registry tune-decoding` and `registry release` as a maintainer runs them to
derive a release from a shipped one (how V2 was made), on a small prepared dataset."""

from __future__ import annotations

import json

import pytest
from conftest import needs_ptc
from typer.testing import CliRunner

from mindlens.cli import app
from mindlens.config import reset_settings_cache
from mindlens.models.analyzer import Analyzer
from mindlens.models.decoding import Decoding
from mindlens.training.release import SHIPPED, read_release
from mindlens.validation import tune_decoding

pytestmark = needs_ptc
runner = CliRunner()


@pytest.fixture
def prepared(tmp_path, monkeypatch):
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    result = runner.invoke(app, ["data", "prepare", "--max-documents", "30"])
    assert result.exit_code == 0, result.output
    return tmp_path


@pytest.mark.slow
def test_tune_then_release_derives_a_checked_release_from_the_shipped_one(prepared):
    tuned = prepared / "tuned"
    step = f"mindlens registry tune-decoding --bundle {SHIPPED} --out {tuned} --force"
    result = runner.invoke(app, step.split()[1:])
    assert result.exit_code == 0, result.output
    assert "| tuned per technique (grouped 5-fold) |" in result.output
    report = json.loads((tuned / tune_decoding.REPORT).read_text())
    written = json.loads((tuned / "span_model" / "tagger.json").read_text())["decoding"]
    assert written == report["decoding"]  # the bundle decodes with what the report chose
    assert len(report["folds"]) == 5 and all(f["documents"] for f in report["folds"])

    out = prepared / "release"
    args = ["registry", "release", "--bundle", str(tuned), "--out", str(out), "--version", "1.1.99"]
    args += ["--changelog", "retuned decoding", "--base", str(SHIPPED), "--step", step]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "(1.1.99)" in result.output and "val_flc_f1=" in result.output

    release = read_release(out)  # every file against its checksum
    base = read_release(SHIPPED)
    assert release["version"] == "1.1.99" and release["changelog"] == "retuned decoding"
    assert release["training"]["derived_from"] == base["version"]
    assert release["training"]["command"] == base["training"]["command"]
    assert release["training"]["steps"] == [step]
    assert release["protocol"]["decoding"] == report["summary"]
    assert (
        0 < release["metrics"]["val_flc_f1"] <= 1
        and "curated_test_hard_negative_fp_rate" in release["metrics"]
    )
    assert release["files"]["span_model/model.int8.onnx"] == base["files"]["span_model/model.int8.onnx"]

    analyzer = Analyzer.load(out)
    assert analyzer.name == "mindlens-1.1.99"
    assert "spans" in analyzer.analyze("These traitors will destroy our great nation!")


def test_tune_decoding_refuses_a_decoding_that_loses_on_held_out_folds(prepared, monkeypatch):
    """The guard, with the (minutes-long) search replaced by a result that loses on every fold."""

    def scores(flc: float) -> dict[str, float]:
        return {"si_f1": 0.4, "flc_f1": flc, "flc_precision": flc, "flc_recall": flc}

    loses = tune_decoding.TuningResult(
        decoding=Decoding(thresholds={"loaded_language": 0.5}),
        folds=[{"own": scores(0.30), "tuned": scores(0.25)} for _ in range(3)],
        final={"own": scores(0.30), "tuned": scores(0.25)},
    )
    monkeypatch.setattr(tune_decoding, "tune", lambda *a, **k: loses)
    out = prepared / "tuned"
    result = runner.invoke(app, ["registry", "tune-decoding", "--bundle", str(SHIPPED), "--out", str(out)])
    assert result.exit_code == 1
    assert "does not beat the model's own" in result.output and "nothing written" in result.output
    assert "FLC gain on the same folds: -0.050" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--version", "v2"], "'v2' is not a semantic version"),
        (["--version", "1.2.0", "--base", "models"], "is not a release folder"),
    ],
)
def test_release_refuses_bad_arguments_before_any_work(tmp_path, extra, message):
    args = ["registry", "release", "--bundle", str(SHIPPED), "--out", str(tmp_path / "r"), "--changelog", "x"]
    result = runner.invoke(app, args + extra)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "r").exists()


def test_missing_bundles_are_named(tmp_path):
    for command in (
        ["registry", "tune-decoding"],
        ["registry", "release", "--version", "1.0.1", "--changelog", "x"],
    ):
        args = command + ["--bundle", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "no such folder" in result.output
