"""POST /feedback: 201/200/409/422/413/429/503 answers, the prediction-log join, admin read-back,
metrics, and an acknowledged item surviving ``kill -9`` of a real server process."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from mindlens.config import Settings, get_settings
from mindlens.feedback import FeedbackStore

TEXT = "They are traitors, all of them! The meeting is at noon."
ADMIN = {"X-API-Key": "feedback-admin"}


def _body(client_id: str = "c-1", **changes: Any) -> dict[str, Any]:
    body = {
        "client_id": client_id,
        "text": TEXT,
        "judgement": "manipulative",
        "corrections": [
            {"action": "confirm", "start": 0, "end": 31, "technique": "name_calling"},
            {
                "action": "relabel",
                "start": 9,
                "end": 17,
                "technique": "loaded_language",
                "new_technique": "smears",
            },
            {"action": "remove", "start": 32, "end": 55, "technique": "doubt"},
        ],
        "comment": "Calling people traitors is an attack, not an argument.",
    }
    return {**body, **changes}


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    serving = {"max_text_chars": 200, "admin_token": "feedback-admin", **overrides.pop("serving", {})}
    feedback = {"max_corrections": 5, "max_comment_chars": 100, **overrides.pop("feedback", {})}
    return get_settings(state_dir=tmp_path, serving=serving, feedback=feedback, **overrides)


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One state folder per module: the app's first start creates its MLflow database (slow)."""
    return tmp_path_factory.mktemp("feedback-api")


@pytest.fixture(scope="module")
def settings(state_dir: Path) -> Settings:
    return _settings(state_dir)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    from mindlens.serving.app import create_app

    with TestClient(create_app(settings, with_ui=False)) as client:  # runs the lifespan
        yield client


def _feedback_metric(client: TestClient, kind: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'mindlens_feedback_received_total{{kind="{kind}"}}'):
            return float(line.split()[-1])
    return 0.0


def _clean_error(response: httpx.Response, status: int, *needles: str) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "Traceback" not in response.text
    for needle in needles:
        assert needle in detail, detail
    return detail


def test_created_then_replayed_then_conflict(client: TestClient, settings: Settings) -> None:
    first = client.post("/feedback", json=_body())
    assert first.status_code == 201, first.text
    ack = first.json()
    assert ack["created"] is True and ack["status"] == "new" and ack["corrections"] == 3
    replay = client.post("/feedback", json=_body())
    assert replay.status_code == 200 and replay.json() == {**ack, "created": False}
    _clean_error(
        client.post("/feedback", json=_body(judgement="unsure")),
        409,
        "client_id 'c-1' was already used",
        f"id {ack['id']}",
    )
    store = FeedbackStore(str(settings.feedback.database_url))  # committed before the answer
    record = store.get(ack["id"])
    assert record is not None and record.text == TEXT and record.comment.startswith("Calling")
    assert [c["action"] for c in record.corrections] == ["confirm", "relabel", "remove"]
    assert [r.client_id for r in store.list()].count("c-1") == 1
    store.close()


def test_feedback_counts_in_metrics(client: TestClient) -> None:
    before = {kind: _feedback_metric(client, kind) for kind in ("corrections", "judgement")}
    assert client.post("/feedback", json=_body("m-1")).status_code == 201
    assert client.post("/feedback", json=_body("m-1")).status_code == 200  # a replay: not counted
    assert (
        client.post("/feedback", json={"client_id": "m-2", "text": TEXT, "judgement": "unsure"}).status_code
        == 201
    )
    assert _feedback_metric(client, "corrections") == before["corrections"] + 1
    assert _feedback_metric(client, "judgement") == before["judgement"] + 1


@pytest.mark.parametrize(
    "changes,needles",
    [
        (
            {"corrections": [{"action": "add", "start": 0, "end": 4, "technique": "lies"}]},
            ["corrections.0.technique", "unknown technique 'lies'"],
        ),
        (
            {"corrections": [{"action": "add", "start": 0, "end": 400, "technique": "doubt"}]},
            ["corrections.0", "past the end of the text (55 characters)"],
        ),
        (
            {"corrections": [{"action": "add", "start": 9, "end": 3, "technique": "doubt"}]},
            ["start (9) must be less than end (3)"],
        ),
        (
            {"corrections": [{"action": "relabel", "start": 0, "end": 4, "technique": "doubt"}]},
            ["needs new_technique"],
        ),
        (
            {
                "corrections": [
                    {
                        "action": "relabel",
                        "start": 0,
                        "end": 4,
                        "technique": "doubt",
                        "new_technique": "doubt",
                    }
                ]
            },
            ["equals technique"],
        ),
        (
            {"corrections": [{"action": "add", "start": -1, "end": 4, "technique": "doubt"}]},
            ["corrections.0.start"],
        ),
        (
            {"corrections": [{"action": "add", "start": "0", "end": 4, "technique": "doubt"}]},
            ["corrections.0.start"],
        ),
        (
            {
                "corrections": [
                    {"action": "confirm", "start": 0, "end": 4, "technique": "doubt"},
                    {"action": "remove", "start": 0, "end": 4, "technique": "doubt"},
                ]
            },
            ["corrections.0 and corrections.1 both concern [0, 4) doubt"],
        ),
        ({"judgement": "propaganda"}, ["judgement"]),
        ({"text": ""}, ["text", "empty"]),
        ({"text": "bad\u0000byte", "corrections": []}, ["NUL"]),
        ({"corrections": [], "judgement": None, "comment": None}, ["feedback is empty"]),
        ({"client_id": ""}, ["client_id"]),
        ({"client_id": "a b"}, ["client_id"]),
        ({"request_id": "not valid!"}, ["request_id"]),
        ({"extra": 1}, ["extra"]),
    ],
)
def test_invalid_feedback_is_422_naming_the_problem(
    client: TestClient, changes: dict, needles: list[str]
) -> None:
    _clean_error(client.post("/feedback", json=_body(**changes)), 422, *needles)


def test_missing_fields_and_bad_json_are_422(client: TestClient) -> None:
    _clean_error(client.post("/feedback", json={"text": TEXT, "judgement": "unsure"}), 422, "client_id")
    _clean_error(client.post("/feedback", json={"client_id": "x", "judgement": "unsure"}), 422, "text")
    response = client.post(
        "/feedback", content=b'{"client_id": "x", "text": ', headers={"content-type": "application/json"}
    )
    _clean_error(response, 422, "not valid JSON")


@pytest.mark.parametrize(
    "changes,needle",
    [
        (
            {"text": "x" * 201, "corrections": []},
            "text is too long: 201 characters received, the limit is 200",
        ),
        (
            {
                "corrections": [
                    {"action": "confirm", "start": i, "end": i + 1, "technique": "doubt"} for i in range(6)
                ]
            },
            "corrections is too long: 6 corrections received, the limit is 5",
        ),
        ({"comment": "y" * 101}, "comment is too long: 101 characters received, the limit is 100"),
    ],
)
def test_over_the_limits_is_413(client: TestClient, changes: dict, needle: str) -> None:
    _clean_error(client.post("/feedback", json=_body(**changes)), 413, needle)


def _prediction(
    request_id: str, text: str = TEXT, version: str = "7", name: str = "mindlens-analyzer"
) -> Any:
    from mindlens.feedback import PredictionRecord

    result = {
        "model": {"name": name, "version": version, "run_id": "r"},
        "spans": [{"start": 0, "end": 8, "technique": "name_calling", "confidence": 0.9, "text": "x"}],
        "document": {"score": 0.9},
    }
    return PredictionRecord.from_result(request_id, "/analyze", text, result)


def test_request_id_joins_the_recorded_prediction(client: TestClient) -> None:
    store = client.app.state.feedback.store()
    store.add_predictions([_prediction("req-42"), _prediction("req-43", name="other", version="1")])
    ok = client.post("/feedback", json=_body("j-1", request_id="req-42"))
    assert ok.status_code == 201 and ok.json()["model"] == {"name": "mindlens-analyzer", "version": "7"}
    _clean_error(
        client.post("/feedback", json=_body("j-2", request_id="req-42", text=TEXT + "!")),
        422,
        "does not match the text analysed under request_id 'req-42'",
    )
    unknown = client.post("/feedback", json=_body("j-3", request_id="never-logged"))
    assert unknown.status_code == 201 and unknown.json()["model"] is None
    assert unknown.json()["request_id"] == "never-logged"


def test_a_batch_request_joins_each_of_its_texts(client: TestClient) -> None:
    other = "Another text of the same batch."
    store = client.app.state.feedback.store()
    store.add_predictions([_prediction("batch-1", other, "3"), _prediction("batch-1", TEXT, "3")])
    joined = client.post("/feedback", json=_body("b-1", request_id="batch-1"))
    assert joined.status_code == 201 and joined.json()["model"]["version"] == "3"
    second = client.post(
        "/feedback", json={"client_id": "b-2", "request_id": "batch-1", "text": other, "judgement": "unsure"}
    )
    assert second.status_code == 201 and second.json()["model"]["version"] == "3"
    assert [p.text_chars for p in store.predictions("batch-1")] == [len(TEXT), len(other)]  # newest first


class _FakeAnalyzer:
    name = "fake-analyzer"

    def analyze(
        self, text: str, *, min_confidence: float | None = None, title: str | None = None, **_: Any
    ) -> dict:
        hit = {"technique": "name_calling", "name": "Name calling", "trait": "attacks_on_people"}
        span = {**hit, "start": 0, "end": min(8, len(text)), "text": text[:8], "sentence": 0, "evidence": []}
        return {
            "sentences": [
                {
                    "index": 0,
                    "start": 0,
                    "end": len(text),
                    "text": text,
                    "techniques": [{**hit, "confidence": 0.8}],
                }
            ],
            "spans": [{**span, "confidence": 0.8}, {**span, "confidence": 0.1}],
            "document": {
                "score": 0.8,
                "techniques": {"name_calling": 0.8},
                "traits": {"attacks_on_people": 0.8},
            },
            "title": {"text": title or text, "clickbait": None},
            "min_confidence": 0.5 if min_confidence is None else min_confidence,
            "timings_ms": {"model": 0.1},
        }


@pytest.fixture
def fake_champion(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served champion without MLflow: version 5 of a fake analyzer."""
    from mindlens.registry import ChampionInfo
    from mindlens.serving import model_store

    info = ChampionInfo("mindlens-analyzer", "5", "run-5", 0.5)
    monkeypatch.setattr(model_store, "champion_info", lambda settings: info)
    monkeypatch.setattr(model_store, "download_champion", lambda settings, dst: (info, dst))
    monkeypatch.setattr(model_store, "load_analyzer", lambda folder, threads=None: _FakeAnalyzer())


def test_feedback_joins_its_analysis_after_a_restart(fake_champion: None, tmp_path: Path) -> None:
    """/analyze records its prediction in the feedback database; a new app on the same state
    folder (a restarted server) still joins feedback to it by request id."""
    from mindlens.serving.app import create_app

    settings = _settings(tmp_path, serving={"reload_interval_s": 0})
    with TestClient(create_app(settings, with_ui=False)) as client:
        analysed = client.post("/analyze", json={"text": TEXT}, headers={"X-Request-ID": "restart-1"})
        assert analysed.status_code == 200 and analysed.headers["x-request-id"] == "restart-1"
        batch = client.post(
            "/analyze/batch", json={"texts": ["First text.", TEXT]}, headers={"X-Request-ID": "restart-2"}
        )
        assert batch.status_code == 200
    with TestClient(create_app(settings, with_ui=False)) as client:  # after the restart
        joined = client.post("/feedback", json=_body("after-1", request_id="restart-1"))
        assert joined.status_code == 201, joined.text
        assert joined.json()["model"] == {"name": "mindlens-analyzer", "version": "5"}
        from_batch = client.post("/feedback", json=_body("after-2", request_id="restart-2"))
        assert from_batch.status_code == 201 and from_batch.json()["model"]["version"] == "5"
        other_text = _body("after-3", request_id="restart-1", text="Other text.", corrections=[])
        _clean_error(client.post("/feedback", json=other_text), 422, "does not match the text analysed")
        unknown = client.post("/feedback", json=_body("after-4", request_id="never-analysed"))
        assert unknown.status_code == 201 and unknown.json()["model"] is None
        recorded = client.app.state.feedback.store().predictions("restart-1")
    assert len(recorded) == 1
    prediction = recorded[0]
    assert prediction.endpoint == "/analyze" and prediction.text_chars == len(TEXT)
    assert prediction.text_sha256 == hashlib.sha256(TEXT.encode()).hexdigest()
    # the spans reported at the request's threshold (the served default, 0.5), as the log keeps them
    assert prediction.spans == [{"start": 0, "end": 8, "technique": "name_calling", "confidence": 0.8}]
    assert prediction.model == {"name": "mindlens-analyzer", "version": "5", "run_id": "run-5"}
    log = settings.state_dir / "predictions" / "predictions.jsonl"  # the log stays, for monitoring
    logged = [json.loads(line)["request_id"] for line in log.read_text().splitlines()]
    assert logged == ["restart-1", "restart-2", "restart-2"]


def test_analysis_keeps_working_while_the_feedback_database_is_down(
    fake_champion: None, tmp_path: Path
) -> None:
    from mindlens.serving.app import create_app

    down = "postgresql+psycopg2://nobody@127.0.0.1:1/feedback"
    settings = _settings(tmp_path, serving={"reload_interval_s": 0}, feedback={"database_url": down})
    with TestClient(create_app(settings, with_ui=False)) as client:
        for i in range(3):
            analysed = client.post("/analyze", json={"text": TEXT}, headers={"X-Request-ID": f"down-{i}"})
            assert analysed.status_code == 200 and analysed.json()["model"]["version"] == "5"
        assert client.app.state.feedback.recorder.flush(10)
        _clean_error(client.post("/feedback", json=_body("down-fb", request_id="down-0")), 503, "unavailable")
        metrics = client.get("/metrics").text
    assert 'mindlens_errors_total{type="prediction_record"} 3.0' in metrics
    assert 'mindlens_requests_total{endpoint="/analyze",method="POST",status="200"} 3.0' in metrics


def test_read_back_needs_the_admin_key(client: TestClient) -> None:
    created = client.post("/feedback", json=_body("r-1")).json()
    _clean_error(client.get(f"/feedback/{created['id']}"), 401, "X-API-Key")
    _clean_error(client.get(f"/feedback/{created['id']}", headers={"X-API-Key": "wrong"}), 403)
    got = client.get(f"/feedback/{created['id']}", headers=ADMIN)
    assert got.status_code == 200
    body = got.json()
    assert body["text_chars"] == len(TEXT) and "text" not in body and body["status"] == "new"
    assert body["text_sha256"] == hashlib.sha256(TEXT.encode()).hexdigest()
    _clean_error(client.get("/feedback/999999", headers=ADMIN), 404, "no feedback with id 999999")


def test_rate_limit_is_429_with_retry_after(state_dir: Path) -> None:
    from mindlens.serving.app import create_app

    app = create_app(_settings(state_dir, feedback={"rate_limit_per_minute": 3}), with_ui=False)
    with TestClient(app) as client:
        answers = [client.post("/feedback", json=_body(f"rl-{i}")) for i in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "too many feedback requests" in answers[-1].json()["detail"]


def test_rate_limiter_refills(monkeypatch: pytest.MonkeyPatch) -> None:
    """``per_minute`` per address in any minute; a refused request learns when to come back."""
    from types import SimpleNamespace

    import limits.storage.memory

    from mindlens.serving import rate_limit

    now = [1000.0]
    clock = SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(rate_limit, "time", clock)
    limiter = rate_limit.RateLimiter(per_minute=2, scope="feedback")
    assert limiter.retry_after("a") == 0 and limiter.retry_after("a") == 0
    now[0] += 20
    assert limiter.retry_after("a") == pytest.approx(40.0)  # the first request leaves the window
    assert limiter.retry_after("b") == 0  # per address
    now[0] += 40.5
    assert limiter.retry_after("a") == 0  # both earlier requests have left the window
    limiter.check("a")
    now[0] += 15
    with pytest.raises(rate_limit.RateLimitedError) as refused:
        limiter.check("a")
    assert refused.value.retry_after_header == "45" and "too many feedback requests" in str(refused.value)
    assert rate_limit.RateLimiter(0).retry_after("a") == 0  # disabled


def test_database_outage_is_503_and_recovers(state_dir: Path, tmp_path: Path) -> None:
    """Unreachable at start and during requests: 503 with a clear message; then it recovers."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from mindlens.serving.app import create_app

    down = "postgresql+psycopg2://nobody@127.0.0.1:1/feedback"
    app = create_app(_settings(state_dir, feedback={"database_url": down}), with_ui=False)
    with TestClient(app) as client:  # the app starts anyway; analysis is unaffected
        assert client.get("/healthz").status_code == 200
        response = client.post("/feedback", json=_body("o-1"))
        detail = _clean_error(response, 503, "feedback store is unavailable", "nothing was stored")
        assert "psycopg2" not in detail and "127.0.0.1" not in detail
        assert response.headers["retry-after"] == "30"
        _clean_error(client.post("/feedback", json=_body("o-1")), 503)  # within the back-off
        service = app.state.feedback
        service._failed_at -= 60  # back-off over: the next request tries to open again
        _clean_error(client.post("/feedback", json=_body("o-1")), 503)
        assert service._failed_at is not None and service._store is None
        service.settings.feedback.database_url = f"sqlite:///{tmp_path / 'late.db'}"
        service._failed_at -= 60  # the database is back: feedback works without a restart
        assert client.post("/feedback", json=_body("o-1")).status_code == 201

    fresh = f"sqlite:///{tmp_path / 'feedback.db'}"
    app = create_app(_settings(state_dir, feedback={"database_url": fresh}), with_ui=False)
    with TestClient(app) as client:
        assert client.post("/feedback", json=_body("o-2")).status_code == 201
        store = app.state.feedback.store()
        healthy = store._sessions
        store._sessions = sessionmaker(create_engine(down))  # the database goes away
        _clean_error(client.post("/feedback", json=_body("o-3")), 503, "unavailable")
        store._sessions = healthy  # and comes back: nothing was half-stored
        assert client.post("/feedback", json=_body("o-3")).status_code == 201
        assert client.post("/feedback", json=_body("o-2")).status_code == 200
        assert store.count() == 2
        assert 'mindlens_errors_total{type="feedback_unavailable"} 1.0' in client.get("/metrics").text


def test_feedback_api_on_postgresql(state_dir: Path) -> None:
    """The production path: the API on a PostgreSQL database (a temporary one)."""
    from pg import temporary_database

    from mindlens.serving.app import create_app

    with temporary_database("mindlens_feedback_api") as url:
        app = create_app(_settings(state_dir, feedback={"database_url": url}), with_ui=False)
        with TestClient(app) as client:
            created = client.post("/feedback", json=_body("pg-api"))
            assert created.status_code == 201, created.text
            assert client.post("/feedback", json=_body("pg-api")).status_code == 200
            _clean_error(client.post("/feedback", json=_body("pg-api", comment="other")), 409)
            got = client.get(f"/feedback/{created.json()['id']}", headers=ADMIN).json()
            assert got["corrections"] == _body()["corrections"]
            app.state.feedback.store().add_predictions([_prediction("pg-req", version="9")])
            joined = client.post("/feedback", json=_body("pg-joined", request_id="pg-req"))
            assert joined.status_code == 201 and joined.json()["model"]["version"] == "9"
        store = FeedbackStore(url)
        assert store.count() == 2 and store.list()[0].text == TEXT
        assert store.predictions("pg-req")[0].spans[0]["technique"] == "name_calling"
        store.close()


def test_openapi_documents_feedback(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/feedback"]["post"]
    assert {"200", "201", "409", "413", "422", "429", "503"} <= set(post["responses"])
    schema = spec["components"]["schemas"]["FeedbackIn"]
    assert schema["examples"][0]["corrections"]
    assert "security" in spec["paths"]["/feedback/{feedback_id}"]["get"]


# --- crash safety -------------------------------------------------------------------------
def _start_server(state_dir: Path, port: int, log_file: Path) -> subprocess.Popen:
    from conftest import start_server

    env = os.environ | {"MINDLENS_STATE_DIR": str(state_dir), "MINDLENS_SERVING__RELOAD_INTERVAL_S": "0"}
    env.pop("MINDLENS_FEEDBACK__DATABASE_URL", None)
    return start_server(port, env, open(log_file, "a"))


@pytest.mark.slow
def test_acknowledged_feedback_survives_kill_9(state_dir: Path, tmp_path: Path) -> None:
    """201 means committed: SIGKILL right after the answer loses nothing."""
    from conftest import free_port, stop_process, wait_for_http

    port, log_file = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    server = _start_server(state_dir, port, log_file)  # the module's state: MLflow DB exists
    try:
        wait_for_http(f"{base}/healthz", process=server)
        acks = []
        for i in range(5):
            response = httpx.post(f"{base}/feedback", json=_body(f"crash-{i}"), timeout=30)
            assert response.status_code == 201, response.text
            acks.append(response.json())
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush, no lifespan exit
        server.wait(timeout=15)
        assert server.returncode == -signal.SIGKILL

        server = _start_server(state_dir, port, log_file)
        wait_for_http(f"{base}/healthz", process=server)
        for i, ack in enumerate(acks):
            replay = httpx.post(f"{base}/feedback", json=_body(f"crash-{i}"), timeout=30)
            assert replay.status_code == 200 and replay.json()["id"] == ack["id"]
    finally:
        stop_process(server)
    store = FeedbackStore(f"sqlite:///{state_dir / 'feedback.db'}")
    stored = [r.client_id for r in store.list() if r.client_id.startswith("crash-")]
    assert stored == [f"crash-{i}" for i in range(5)]
    store.close()
