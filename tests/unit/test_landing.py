"""``GET /`` (``serving.routes.landing``): the served model, the links, the companion UIs that
are configured and no others, everything escaped; HEAD too. The real server's page (with the
demo's link) is checked in tests/integration/test_api_url.py."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from reliability.faults import FolderRegistry

from mindlens.config import Settings
from mindlens.serving.app import create_app
from mindlens.serving.routes.landing import companion_links


def test_before_a_champion_the_page_says_why_and_links_the_api(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(state_dir=tmp_path / "state"), with_ui=False)) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = response.text
        assert page.startswith("<!doctype html>") and "<h1>MindLens</h1>" in page
        assert "No model is served yet" in page
        for href in ("/docs", "/metrics", "/healthz", "/readyz", "/version", "/techniques"):
            assert f'<a href="{href}">' in page
        assert "/demo/" not in page  # the API alone: no demo mounted, no link to it
        assert "Around it" not in page  # no companion UI configured
        head = client.head("/")
        assert head.status_code == 200 and head.headers["content-type"].startswith("text/html")
        assert head.content == b""
        assert "/" not in client.get("/openapi.json").json()["paths"]  # a page, not an API operation


def test_the_served_model_and_configured_uis_are_shown_escaped(tmp_path: Path, monkeypatch) -> None:
    registry = FolderRegistry(tmp_path / "artifact-store", monkeypatch)
    registry.register("7")
    hostile = 'http://127.0.0.1:8080/"><script>alert(1)</script>'
    settings = Settings(
        state_dir=tmp_path / "state",
        serving={"reload_interval_s": 0},
        links={"airflow_ui": hostile, "grafana_ui": "http://127.0.0.1:3000"},
    )
    with TestClient(create_app(settings, with_ui=False)) as client:
        page = client.get("/").text
    assert "<strong>mindlens-analyzer</strong> version <strong>7</strong>" in page
    assert "<script>" not in page
    assert "http://127.0.0.1:8080/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<dt>Airflow</dt>" in page and '<a href="http://127.0.0.1:3000">' in page
    assert "<dt>MLflow</dt>" not in page  # a SQLite tracking store has no UI address


def test_companion_links_come_from_settings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MINDLENS_LABEL_STUDIO_TOKEN", raising=False)
    plain = Settings(state_dir=tmp_path)
    assert companion_links(plain) == []  # SQLite MLflow, no token for Label Studio, nothing set
    served = Settings(
        state_dir=tmp_path,
        mlflow={"tracking_uri": "http://127.0.0.1:5000"},
        label_studio={"url": "http://127.0.0.1:8081", "token": "t" * 40},
        links={"airflow_ui": "http://127.0.0.1:8080"},
    )
    assert [(name, url) for name, url, _ in companion_links(served)] == [
        ("MLflow", "http://127.0.0.1:5000"),
        ("Airflow", "http://127.0.0.1:8080"),
        ("Label Studio", "http://127.0.0.1:8081"),
    ]
