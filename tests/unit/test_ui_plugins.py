"""``serving.plugins``: UI plugins are found through the ``mindlens.ui`` entry point group.
The demo is one (mounted at /demo when installed); without any, or with a broken one, the
app starts and serves the API."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mindlens.config import Settings
from mindlens.serving import model_store, plugins
from mindlens.serving.app import create_app
from mindlens.serving.plugins import UI_GROUP, ServingContext

SRC = Path(__file__).resolve().parents[2] / "src" / "mindlens"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """No champion, found at once (no MLflow): what the app does before the first training."""
    from mindlens.registry import NoChampionError

    def no_champion(settings: Settings) -> None:
        raise NoChampionError("no 'champion' version")

    monkeypatch.setattr(model_store, "champion_info", no_champion)
    return Settings(state_dir=tmp_path, serving={"reload_interval_s": 0})


def _installed(monkeypatch: pytest.MonkeyPatch, *values: tuple[str, str]) -> None:
    """Pretend these (name, "module:function") are the installed UI plugins."""
    found = [EntryPoint(name=name, value=value, group=UI_GROUP) for name, value in values]
    monkeypatch.setattr(plugins, "entry_points", lambda group: found if group == UI_GROUP else [])


def fake_mount(app: FastAPI, context: ServingContext) -> str:
    """A UI plugin that shows the served model through the context it was given."""

    @app.get("/fake-ui")
    def page() -> dict[str, str]:
        return {"model": context.analysis.model_label()}

    return "/fake-ui"


def broken_mount(app: FastAPI, context: ServingContext) -> str:
    raise RuntimeError("this plugin cannot mount")


def test_the_demo_is_an_installed_ui_plugin() -> None:
    found = {ep.name: ep.value for ep in plugins.ui_entry_points()}
    assert found.get("demo") == "mindlens_demo.app:mount"


def test_the_library_never_imports_the_demo() -> None:
    offenders = [str(p) for p in SRC.rglob("*.py") if "mindlens_demo" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_without_plugins_the_api_serves_alone(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch)
    app = create_app(settings)
    assert app.state.ui == {} and "demo" not in app.description
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok", "model": None, "version": None}
        assert client.post("/analyze", json={"text": "Make our streets safe again!"}).status_code == 503
        assert client.get("/demo/").status_code == 404


def test_a_plugin_is_mounted_with_the_serving_context(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _installed(monkeypatch, ("fake", f"{__name__}:fake_mount"))
    app = create_app(settings)
    assert app.state.ui == {"fake": "/fake-ui"}
    with TestClient(app) as client:
        assert client.get("/fake-ui").json() == {"model": "no champion model registered yet"}
    assert create_app(settings, with_ui=False).state.ui == {}  # the API alone, on request


def test_a_broken_plugin_is_left_out_and_logged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _installed(
        monkeypatch,
        ("missing", "mindlens_no_such_plugin.app:mount"),
        ("broken", f"{__name__}:broken_mount"),
        ("fake", f"{__name__}:fake_mount"),
    )
    with caplog.at_level(logging.ERROR, logger="mindlens.serving.plugins"):
        app = create_app(settings)
    assert app.state.ui == {"fake": "/fake-ui"}
    logged = caplog.text
    assert "'missing'" in logged and "'broken'" in logged and "cannot mount" in logged
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200


def test_the_demo_is_mounted_at_demo_when_installed(settings: Settings) -> None:
    app = create_app(settings)
    assert app.state.ui == {"demo": "/demo"}
    assert app.description.endswith("Interactive demo at [/demo/](/demo/).")
    with TestClient(app) as client:
        page = client.get("/demo/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert client.get("/healthz").status_code == 200
        # the demo's queue looks for events every IDLE_POLL_S, not Gradio's 1 ms, while idle
        from mindlens_demo.app import IDLE_POLL_S

        mounted = next(r.app for r in app.routes if getattr(r, "path", None) == "/demo")
        assert mounted.get_blocks()._queue.sleep_when_free == IDLE_POLL_S
