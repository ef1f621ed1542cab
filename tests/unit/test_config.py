from pathlib import Path

import pytest
from pydantic import ValidationError

from mindlens.config import PROJECT_ROOT, Settings


def test_yaml_defaults_are_loaded_and_paths_resolved(monkeypatch):
    monkeypatch.delenv("MINDLENS_STATE_DIR", raising=False)
    settings = Settings()
    assert settings.state_dir == PROJECT_ROOT / ".mindlens"
    assert settings.mlflow.tracking_uri == f"sqlite:///{PROJECT_ROOT / '.mindlens' / 'mlflow.db'}"
    assert settings.train.baseline.ngram_max == 2  # from configs/default.yaml
    assert settings.serving.url == "http://127.0.0.1:8000"


def test_environment_overrides_nested_values_only(monkeypatch, tmp_path):
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MINDLENS_SERVING__PORT", "9123")
    monkeypatch.setenv("MINDLENS_DATA_DIR", "some/relative")
    settings = Settings()
    assert settings.serving.port == 9123
    assert settings.serving.host == "127.0.0.1"  # sibling keys keep their YAML value
    assert settings.data_dir == (PROJECT_ROOT / "some/relative").resolve()
    assert settings.mlflow.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert settings.airflow_home == tmp_path / "airflow"


def test_invalid_values_are_rejected_with_the_key_named(monkeypatch):
    monkeypatch.setenv("MINDLENS_SERVING__PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_unknown_keys_are_rejected(tmp_path, monkeypatch):
    config = tmp_path / "bad.yaml"
    config.write_text("servng:\n  port: 1\n")
    monkeypatch.setenv("MINDLENS_CONFIG", str(config))
    with pytest.raises(ValidationError, match="servng"):
        Settings()


def test_alternative_config_file(tmp_path, monkeypatch):
    config = tmp_path / "c.yaml"
    config.write_text("data:\n  seed: 99\n")
    monkeypatch.setenv("MINDLENS_CONFIG", str(config))
    assert Settings().data.seed == 99
    assert Path(Settings().state_dir).is_absolute()
