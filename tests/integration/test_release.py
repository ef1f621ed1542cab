"""The shipped V1 release: checksums, bootstrap into an empty registry, served spans."""

import shutil

import pytest
from typer.testing import CliRunner

from mindlens.cli import app
from mindlens.config import Settings, reset_settings_cache
from mindlens.training.release import SHIPPED, ReleaseError, read_release, taxonomy_version

runner = CliRunner()


def test_shipped_release_is_complete_compact_and_speaks_this_taxonomy():
    release = read_release(SHIPPED)  # raises if a file is missing or altered
    assert release["version"] == "1.0.0"
    assert release["taxonomy_version"] == taxonomy_version()
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert size < 100 * 1024 * 1024
    assert "span_model/model.int8.onnx" in release["files"]
    assert not [p for p in SHIPPED.rglob("*") if p.suffix in (".pkl", ".pt", ".bin", ".safetensors")]


def test_altered_release_is_refused(tmp_path):
    copy = tmp_path / "v1"
    shutil.copytree(SHIPPED, copy)
    tagger = copy / "span_model" / "tagger.json"
    tagger.write_text(tagger.read_text().replace("minilm", "MINILM"))
    with pytest.raises(ReleaseError, match="tagger.json does not match its sha256"):
        read_release(copy)


@pytest.mark.slow
def test_bootstrap_registers_v1_as_champion_once(tmp_path, monkeypatch):
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    first = runner.invoke(app, ["registry", "bootstrap"])
    assert first.exit_code == 0, first.output
    assert '"semver": "1.0.0"' in first.output
    again = runner.invoke(app, ["registry", "bootstrap"])
    assert again.exit_code == 0 and "nothing to do" in again.output

    import mlflow

    from mindlens.registry import champion_info, load_analyzer

    settings = Settings(state_dir=tmp_path)
    champion = champion_info(settings)
    version = mlflow.MlflowClient().get_model_version(champion.name, champion.version)
    assert version.tags["semver"] == "1.0.0" and version.tags["changelog"]
    analyzer, _ = load_analyzer(settings)
    assert analyzer.span_model is not None
    text = (
        "The corrupt, lying elites have betrayed every decent patriot in this country. "
        "The committee meets on Tuesday."
    )
    result = analyzer.analyze(text)
    assert result["spans"], "V1 finds fragments in an obvious case"
    assert all(text[s["start"] : s["end"]] == s["text"] for s in result["spans"])
    assert result["spans"][0]["technique"] in {"loaded_language", "name_calling", "flag_waving"}
