"""The shipped releases (V1 1.0.0, V2 1.1.0, V2.1 1.1.1): checksums, bootstrap into an empty
registry, served spans, V2 derived from V1, V2.1 from V2."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from mindlens.cli import app
from mindlens.config import Settings, reset_settings_cache
from mindlens.training.release import SHIPPED, SHIPPED_RELEASES, ReleaseError, read_release, taxonomy_version

runner = CliRunner()


@pytest.mark.parametrize("folder", SHIPPED_RELEASES, ids=lambda f: f.name)
def test_shipped_releases_are_complete_compact_and_speak_this_taxonomy(folder):
    release = read_release(folder)  # raises if a file is missing or altered
    assert release["taxonomy_version"] == taxonomy_version()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 100 * 1024 * 1024
    assert "span_model/model.int8.onnx" in release["files"]
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pt", ".bin", ".safetensors")]


def test_v2_is_v1s_network_with_tuned_decoding_and_the_tc_model():
    v1, v2 = (read_release(f) for f in SHIPPED_RELEASES[:2])
    assert (v1["version"], v2["version"]) == ("1.0.0", "1.1.0") and SHIPPED == SHIPPED_RELEASES[-1]
    assert v2["files"]["span_model/model.int8.onnx"] == v1["files"]["span_model/model.int8.onnx"]
    assert "tc_model.json.gz" in v2["files"]
    training = v2["training"]
    assert training["derived_from"] == "1.0.0" and training["command"] == v1["training"]["command"]
    assert any("tune-decoding" in step for step in training["steps"])
    tuned = v2["protocol"]["decoding"]
    assert tuned["tuned"]["flc_f1"][0] > tuned["own"]["flc_f1"][0]  # what it was chosen for, by the protocol
    config = json.loads((SHIPPED_RELEASES[1] / "span_model" / "tagger.json").read_text())
    assert set(config["decoding"]["thresholds"]) == set(config["labels"])


def test_v2_1_is_v2_with_batch_invariant_int8():
    """A patch release: V2's tokenizer, decoding and TC model, its int8 weights with fixed
    activation ranges (tests/unit/test_batch_invariance.py checks the invariance)."""
    import onnx

    v2, v21 = (read_release(f) for f in SHIPPED_RELEASES[1:])
    assert v21["version"] == "1.1.1" and v21["training"]["derived_from"] == "1.1.0"
    assert any("requantize" in step for step in v21["training"]["steps"])
    for name in ("span_model/tagger.json", "span_model/tokenizer.json", "tc_model.json.gz"):
        assert v21["files"][name] == v2["files"][name], name
    ops = [
        n.op_type for n in onnx.load(str(SHIPPED_RELEASES[2] / "span_model" / "model.int8.onnx")).graph.node
    ]
    assert "DynamicQuantizeLinear" not in ops and "MatMulInteger" in ops
    for metric in ("val_si_f1", "val_flc_f1"):
        assert v21["metrics"][metric] > v2["metrics"][metric] - 0.01, metric  # within one point
    # no re-tuning: V2's protocol figures describe the decoding it keeps, marked as V2's
    assert v21["protocol"] == {"measured_on": "1.1.0", **v2["protocol"]}


def test_altered_release_is_refused(tmp_path):
    copy = tmp_path / "v1"
    shutil.copytree(SHIPPED, copy)
    tagger = copy / "span_model" / "tagger.json"
    tagger.write_text(tagger.read_text().replace("minilm", "MINILM"))
    with pytest.raises(ReleaseError, match="tagger.json does not match its sha256"):
        read_release(copy)


@pytest.mark.slow
def test_bootstrap_registers_the_shipped_releases_once_newest_champion(tmp_path, monkeypatch):
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    first = runner.invoke(app, ["registry", "bootstrap"])
    assert first.exit_code == 0, first.output
    result, _ = json.JSONDecoder().raw_decode(first.output[first.output.index("{") :])  # amid log lines
    assert result["registered"] == ["1.0.0", "1.1.0", "1.1.1"] and result["champion_semver"] == "1.1.1"
    again = runner.invoke(app, ["registry", "bootstrap"])
    assert again.exit_code == 0 and "nothing to register" in again.output and "1.1.1" in again.output

    import mlflow

    from mindlens.registry import champion_info, load_analyzer

    settings = Settings(state_dir=tmp_path)
    champion = champion_info(settings)
    version = mlflow.MlflowClient().get_model_version(champion.name, champion.version)
    assert version.tags["semver"] == "1.1.1" and version.tags["changelog"]
    analyzer, _ = load_analyzer(settings)
    assert analyzer.span_model is not None
    text = (
        "The corrupt, lying elites have betrayed every decent patriot in this country. "
        "The committee meets on Tuesday."
    )
    result = analyzer.analyze(text)
    assert result["spans"], "V2 finds fragments in an obvious case"
    assert all(text[s["start"] : s["end"]] == s["text"] for s in result["spans"])
    assert result["spans"][0]["technique"] in {"loaded_language", "name_calling", "flag_waving"}


@pytest.mark.slow
def test_bootstrap_upgrades_an_older_shipped_champion_and_rollback_returns_to_it(tmp_path, monkeypatch):
    """A registry bootstrapped before V2 shipped (V1 champion) gets V2 as champion on the next
    bootstrap, and `registry rollback` brings V1 back."""
    from mindlens.registry import bootstrap_releases, champion_info, rollback

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    settings = Settings(state_dir=tmp_path)
    v1, v2 = SHIPPED_RELEASES[:2]
    assert bootstrap_releases(settings, [v1])["registered"] == ["1.0.0"]
    assert champion_info(settings).semver == "1.0.0"
    upgraded = bootstrap_releases(settings, [v1, v2])
    assert upgraded["registered"] == ["1.1.0"] and upgraded["champion_semver"] == "1.1.0"
    assert champion_info(settings).semver == "1.1.0"
    rollback(settings)
    assert champion_info(settings).semver == "1.0.0"
    # a champion that is not the newest shipped release is a choice: bootstrap leaves it
    assert bootstrap_releases(settings, [v1, v2])["registered"] == []
    assert champion_info(settings).semver == "1.0.0"
