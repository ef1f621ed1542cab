"""Secure by default: without a configured admin token, /admin/reload and GET /feedback/{id} are
closed; `mindlens serve` generates a 0600 token file in the state folder; a failed reload leaks
no SQL or paths; the demo's feedback counts against POST /feedback's per-address limit."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mindlens.config import Settings
from mindlens.serving import model_store
from reliability.faults import ADMIN, FolderRegistry, settings_for

pytestmark = pytest.mark.reliability


def test_admin_and_feedback_reading_are_closed_without_a_token(registry: FolderRegistry, client_for) -> None:
    registry.register("1")
    client = client_for(admin_token=None)
    for answer in (
        client.post("/admin/reload"),
        client.post("/admin/reload", headers={"X-API-Key": "guess"}),
        client.get("/feedback/1"),
        client.get("/feedback/1", headers={"X-API-Key": ""}),
    ):
        assert answer.status_code == 403, answer.text
        assert "no admin token configured" in answer.json()["detail"]
        assert answer.headers["x-request-id"]
    assert client.post("/analyze", json={"text": "Still analyses."}).status_code == 200


def test_reload_errors_leak_no_sql_or_paths(registry: FolderRegistry, client_for, monkeypatch) -> None:
    from mlflow.exceptions import MlflowException

    from mindlens.registry import registry as real_registry

    registry.register("1")
    client = client_for()
    sql = "(sqlite3.OperationalError) no such table: model_versions [SQL: SELECT model_versions.name FROM model_versions]"

    class BrokenClient:
        def get_model_version_by_alias(self, name, alias):
            raise MlflowException(sql, error_code="TEMPORARILY_UNAVAILABLE")

    monkeypatch.setattr(real_registry, "mlflow_client", lambda settings: BrokenClient())
    monkeypatch.setattr(model_store, "champion_info", real_registry.champion_info)
    answer = client.post("/admin/reload", headers=ADMIN)
    assert answer.status_code == 200
    body = answer.json()
    assert body["reloaded"] is False and body["version"] == "1"
    assert "registry cannot be read" in body["error"]
    for secret in ("SELECT", "sqlite3", "model_versions", str(client.app.state.settings.state_dir)):
        assert secret not in answer.text
    ready = client.get("/readyz").json()
    assert ready["status"] == "degraded" and "SELECT" not in str(ready)


def test_serve_generates_a_private_token_file_that_other_processes_read(tmp_path: Path, monkeypatch) -> None:
    from mindlens.serving.admin_token import ensure_admin_token

    monkeypatch.delenv("MINDLENS_SERVING__ADMIN_TOKEN", raising=False)
    settings = Settings(state_dir=tmp_path)
    assert settings.serving.admin_token is None
    path = ensure_admin_token(settings)
    assert path == settings.paths.admin_token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = settings.serving.admin_token
    assert token and len(token) >= 32 and path.read_text().strip() == token
    assert Settings(state_dir=tmp_path).serving.admin_token == token  # the pipeline's reload call
    assert token not in repr(settings)
    assert ensure_admin_token(Settings(state_dir=tmp_path)) == path  # kept, not regenerated
    assert path.read_text().strip() == token


def test_a_token_from_the_environment_wins_and_no_file_is_written(tmp_path: Path, monkeypatch) -> None:
    from mindlens.serving.admin_token import ensure_admin_token

    monkeypatch.setenv("MINDLENS_SERVING__ADMIN_TOKEN", "from-the-environment")
    settings = Settings(state_dir=tmp_path)
    assert ensure_admin_token(settings) is None
    assert settings.serving.admin_token == "from-the-environment"
    assert not settings.paths.admin_token.exists()


def test_the_admin_token_is_refused_in_the_config_file(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("serving:\n  admin_token: in-a-file\n")
    monkeypatch.setenv("MINDLENS_CONFIG", str(config))
    with pytest.raises(ValueError, match="MINDLENS_SERVING__ADMIN_TOKEN"):
        Settings(state_dir=tmp_path)


def test_the_demo_shares_the_feedback_rate_limit(tmp_path: Path, registry: FolderRegistry) -> None:
    from mindlens.feedback.service import FeedbackService
    from mindlens.serving.analysis import AnalysisService
    from mindlens.serving.model_store import ModelStore
    from mindlens.serving.plugins import ServingContext
    from mindlens.serving.rate_limit import RateLimiter
    from mindlens_demo.service import DemoService

    registry.register("1")
    settings = settings_for(tmp_path)
    store = ModelStore(settings)
    store.reload()
    feedback = FeedbackService(settings)
    limiter = RateLimiter(2, "feedback")
    service = DemoService(ServingContext(settings, AnalysisService(store, settings), feedback, limiter))
    try:
        for i in range(2):
            body = {"client_id": f"demo-{i}", "text": "Some words.", "judgement": "unsure"}
            assert service.submit_feedback(body, client="10.0.0.7")["created"]
        with pytest.raises(ValueError, match="too many feedback requests"):
            service.submit_feedback(
                {"client_id": "demo-3", "text": "Some words.", "judgement": "unsure"}, client="10.0.0.7"
            )
        # the API's POST /feedback from the same address draws on the same budget
        with pytest.raises(Exception, match="too many"):
            limiter.check("10.0.0.7")
        assert service.submit_feedback(
            {"client_id": "demo-4", "text": "Other.", "judgement": "unsure"}, client="10.0.0.8"
        )
    finally:
        feedback.close()


def test_the_demo_shares_the_analysis_rate_limit(tmp_path: Path, registry: FolderRegistry) -> None:
    """The demo's analyses count against the API's per-address budget (serving.analyze_rate_limit_per_minute)."""
    from mindlens.serving.analysis import AnalysisService
    from mindlens.serving.model_store import ModelStore
    from mindlens.serving.plugins import ServingContext
    from mindlens_demo.service import DemoService

    registry.register("1")
    settings = settings_for(tmp_path, analyze_rate_limit_per_minute=2)
    store = ModelStore(settings)
    store.reload()
    analysis = AnalysisService(store, settings)
    service = DemoService(ServingContext(settings, analysis, None))
    for _ in range(2):
        assert "request_id" in service.analyze("They are traitors.", 0.5, client="10.0.0.7")
    with pytest.raises(ValueError, match="too many analysis requests"):
        service.analyze("They are traitors.", 0.5, client="10.0.0.7")
    with pytest.raises(ValueError, match="too many analysis requests"):
        service.analyze_url("http://127.0.0.1:9/a", 0.5, client="10.0.0.7")  # refused before fetching
    with pytest.raises(Exception, match="too many"):  # the API's /analyze draws on the same budget
        analysis.limiter.check("10.0.0.7")
    assert service.analyze("They are traitors.", 0.5, client="10.0.0.8")  # another address
