"""Label Studio settings live in the validated config (``label_studio``): YAML defaults,
``MINDLENS_LABEL_STUDIO__<KEY>`` overrides, the older ``MINDLENS_LABEL_STUDIO_<KEY>`` names
still honoured, and the token a secret: from the environment only, never printed."""

from __future__ import annotations

import logging

import pytest

from mindlens.config import Settings
from mindlens.labelling.connection import Connection, LabelStudioError, connect
from mindlens.tracking import flatten

SECRET = "0123456789abcdef0123456789abcdef01234567"
LEGACY = (
    "MINDLENS_LABEL_STUDIO_URL",
    "MINDLENS_LABEL_STUDIO_TOKEN",
    "MINDLENS_LABEL_STUDIO_PROJECT",
    "MINDLENS_LABEL_STUDIO_FEEDBACK_PROJECT",
)


@pytest.fixture(autouse=True)
def _no_label_studio_env(monkeypatch):
    for name in LEGACY:
        monkeypatch.delenv(name, raising=False)
    for key in ("URL", "TOKEN", "PROJECT", "FEEDBACK_PROJECT"):
        monkeypatch.delenv(f"MINDLENS_LABEL_STUDIO__{key}", raising=False)


def test_defaults_come_from_the_config_file():
    config = Settings().label_studio
    assert config.url == "http://127.0.0.1:8081"
    assert (config.project, config.feedback_project) == ("MindLens", "MindLens feedback")
    assert config.token is None and not config.configured
    assert not Connection.from_settings(Settings()).configured


def test_nested_environment_variables_override_the_file(monkeypatch):
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO__URL", "http://label-studio:8080")
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO__FEEDBACK_PROJECT", "Review")
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO__TOKEN", SECRET)
    config = Settings().label_studio
    assert config.url == "http://label-studio:8080" and config.feedback_project == "Review"
    assert config.project == "MindLens"  # sibling keys keep their YAML value
    assert config.configured and config.token.get_secret_value() == SECRET


def test_the_documented_variable_names_still_work(monkeypatch):
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_URL", "http://old:1")
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_TOKEN", SECRET)
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_PROJECT", "Curated")
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_FEEDBACK_PROJECT", "Feedback")
    conn = Connection.from_settings(Settings())
    assert (conn.url, conn.token, conn.project) == ("http://old:1", SECRET, "Curated")
    assert Settings().label_studio.feedback_project == "Feedback"
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO__URL", "http://new:2")
    assert Settings().label_studio.url == "http://new:2"  # the nested name wins


def test_an_empty_token_means_not_configured(monkeypatch):
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_TOKEN", "")  # docker-compose's default
    assert not Settings().label_studio.configured
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO__TOKEN", "")
    assert Settings().label_studio.token is None


def test_the_token_is_never_read_from_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "c.yaml"
    config.write_text(f"label_studio:\n  token: {SECRET}\n")
    monkeypatch.setenv("MINDLENS_CONFIG", str(config))
    with pytest.raises(ValueError, match="secret"):
        Settings()


def test_the_token_is_not_printed_logged_or_recorded(monkeypatch, caplog):
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_TOKEN", SECRET)
    settings = Settings()
    conn = Connection.from_settings(settings)
    assert conn.token == SECRET
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings %s %r; connection %s %r", settings, settings, conn, conn)
    shown = [
        caplog.text,
        str(settings.label_studio),
        settings.model_dump_json(),
        str(flatten(settings.model_dump(mode="json"))),  # what training runs log as params
    ]
    assert not [text for text in shown if SECRET in text]


def test_connection_errors_name_the_url_not_the_token():
    pytest.importorskip("label_studio_sdk")
    with pytest.raises(LabelStudioError) as err:
        connect(Connection("http://127.0.0.1:9", SECRET, "MindLens"))  # nothing listens
    assert "127.0.0.1:9" in str(err.value) and SECRET not in str(err.value)
    with pytest.raises(LabelStudioError, match="MINDLENS_LABEL_STUDIO_TOKEN is not set"):
        connect(Connection("http://127.0.0.1:9", None, "MindLens"))
