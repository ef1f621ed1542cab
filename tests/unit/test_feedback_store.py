"""The feedback store on SQLite (and PostgreSQL when one answers on loopback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from mindlens.feedback import (
    FeedbackConflictError,
    FeedbackIn,
    FeedbackStore,
    FeedbackUnavailableError,
)

TEXT = "They are traitors, all of them! The meeting is at noon."


def _item(client_id: str = "c-1", **changes: object) -> FeedbackIn:
    body: dict[str, object] = {
        "client_id": client_id,
        "text": TEXT,
        "judgement": "manipulative",
        "comment": "harsh",
        "corrections": [
            {"action": "confirm", "start": 0, "end": 31, "technique": "name_calling"},
            {
                "action": "relabel",
                "start": 9,
                "end": 17,
                "technique": "loaded_language",
                "new_technique": "smears",
            },
        ],
    }
    return FeedbackIn(**{**body, **changes})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.db'}")
    yield store
    store.close()


def test_migration_creates_the_schema(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, inspect, text

    url = f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}"  # the folder does not exist yet
    FeedbackStore(url).close()
    engine = create_engine(url)
    inspector = inspect(engine)
    columns = {c["name"] for c in inspector.get_columns("feedback")}
    assert columns == {
        "id",
        "client_id",
        "request_id",
        "text",
        "text_sha256",
        "model_name",
        "model_version",
        "judgement",
        "corrections",
        "comment",
        "created_at",
        "status",
        "label_studio_task_id",
    }
    uniques = inspector.get_unique_constraints("feedback")
    assert any(u["column_names"] == ["client_id"] for u in uniques)
    assert {c["name"] for c in inspector.get_columns("predictions")} == {
        "id",
        "request_id",
        "endpoint",
        "text_sha256",
        "text_chars",
        "model_name",
        "model_version",
        "model_run_id",
        "spans",
        "document_score",
        "created_at",
    }
    assert [i["column_names"] for i in inspector.get_indexes("predictions")] == [["request_id"]]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM feedback_alembic_version")).scalar() == "0002"
    engine.dispose()
    FeedbackStore(url).close()  # opening again is a no-op migration


def test_migrations_match_the_orm_models(store: FeedbackStore) -> None:
    """autogenerate finds nothing to change: models.py and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from mindlens.feedback.models import Base

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": "feedback_alembic_version"})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_a_0001_database_is_upgraded_keeping_its_feedback(tmp_path: Path) -> None:
    """A database made before the predictions table (revision 0001) gets it on open."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, inspect

    from mindlens.feedback.store import MIGRATIONS_DIR

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    assert "predictions" not in inspect(engine).get_table_names()
    engine.dispose()
    store = FeedbackStore(url)
    record, _ = store.add(_item())
    assert store.get(record.id) is not None and store.predictions("any") == []
    store.close()


def test_predictions_are_stored_and_found_by_request_id(store: FeedbackStore) -> None:
    from mindlens.feedback import PredictionRecord

    def recorded(request_id: str, text: str, version: str) -> PredictionRecord:
        result = {
            "model": {"name": "mindlens-analyzer", "version": version, "run_id": None},
            "spans": [
                {"start": 0, "end": 4, "technique": "doubt", "confidence": 0.7, "text": "They"},
                {"start": 5, "end": 8, "technique": "slogans", "confidence": 0.2, "text": "are"},
            ],
            "document": {"score": 0.7},
        }
        return PredictionRecord.from_result(request_id, "/analyze/batch", text, result, min_confidence=0.5)

    store.add_predictions([recorded("r-1", "First.", "3"), recorded("r-1", "Second.", "3")])
    store.add_predictions([recorded("r-2", "Third.", "4")])
    store.add_predictions([])
    found = store.predictions("r-1")
    assert [p.text_chars for p in found] == [len("Second."), len("First.")]  # newest first
    first = found[1]
    assert first.spans == [{"start": 0, "end": 4, "technique": "doubt", "confidence": 0.7}]  # >= 0.5 only
    assert first.model == {"name": "mindlens-analyzer", "version": "3", "run_id": None}
    assert first.analysis() == {"spans": first.spans, "document": {"score": 0.7}}
    assert first.created_at.tzinfo is not None and first.endpoint == "/analyze/batch"
    assert store.predictions("absent") == []


def test_add_get_and_replay(store: FeedbackStore) -> None:
    record, created = store.add(_item(), model_name="mindlens-analyzer", model_version="3")
    assert created and record.id >= 1 and record.status == "new"
    assert record.model_version == "3" and record.label_studio_task_id is None
    assert record.corrections[1] == {
        "action": "relabel",
        "start": 9,
        "end": 17,
        "technique": "loaded_language",
        "new_technique": "smears",
    }
    assert "new_technique" not in record.corrections[0]
    assert record.created_at.tzinfo is not None
    assert store.get(record.id) == record
    again, created_again = store.add(_item())
    assert not created_again and again == record
    assert store.count() == 1
    assert store.get(record.id + 100) is None


@pytest.mark.parametrize(
    "change",
    [
        {"comment": "another comment"},
        {"judgement": "unsure"},
        {"text": TEXT + " More."},
        {"corrections": []},
        {"request_id": "abc123"},
    ],
)
def test_same_client_id_other_content_is_a_conflict(store: FeedbackStore, change: dict) -> None:
    record, _ = store.add(_item())
    with pytest.raises(FeedbackConflictError, match="client_id 'c-1' was already used") as info:
        store.add(_item(**change))
    assert info.value.existing_id == record.id
    assert store.count() == 1


def test_durable_across_a_new_store_on_the_same_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    first = FeedbackStore(url)
    record, _ = first.add(_item("durable"))
    first.close()
    second = FeedbackStore(url)
    assert second.get(record.id) == record
    assert second.add(_item("durable")) == (record, False)
    second.close()


def test_status_flow_and_listing(store: FeedbackStore) -> None:
    ids = [store.add(_item(f"c-{i}"))[0].id for i in range(4)]
    assert [r.id for r in store.list()] == ids
    assert [r.id for r in store.list(limit=2)] == ids[:2]
    store.mark_queued([(ids[0], 501), (ids[1], 502)])
    store.mark_reviewed([ids[0]])
    assert [r.id for r in store.list(status="new")] == ids[2:]
    queued = store.list(status="queued")
    assert [(r.id, r.label_studio_task_id) for r in queued] == [(ids[1], 502)]
    reviewed = store.get(ids[0])
    assert reviewed is not None and reviewed.status == "reviewed" and reviewed.label_studio_task_id == 501
    with pytest.raises(ValueError, match="unknown status"):
        store.list(status="done")
    with pytest.raises(LookupError, match="no feedback with id 9999"):
        store.mark_queued([(ids[2], 1), (9999, 2)])
    assert store.get(ids[2]).status == "new"  # all or nothing
    store.mark_queued([])
    store.mark_reviewed([])


def test_concurrent_replays_store_one_row(store: FeedbackStore) -> None:
    results: list[bool] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            results.append(store.add(_item("race"))[1])
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(results) == [False] * 5 + [True]
    assert store.count() == 1


def test_unreachable_database_is_unavailable_not_a_crash() -> None:
    with pytest.raises(FeedbackUnavailableError, match="unavailable"):
        FeedbackStore("postgresql+psycopg2://nobody@127.0.0.1:1/none")
    with pytest.raises(FeedbackUnavailableError, match="invalid feedback database URL"):
        FeedbackStore("nosuchdialect://x")


@pytest.mark.parametrize(
    "change,needle",
    [
        (
            {"corrections": [{"action": "add", "start": 0, "end": 5, "technique": "lying"}]},
            "unknown technique 'lying'",
        ),
        (
            {"corrections": [{"action": "add", "start": 5, "end": 5, "technique": "doubt"}]},
            "must be less than end",
        ),
        (
            {"corrections": [{"action": "add", "start": 0, "end": 500, "technique": "doubt"}]},
            "past the end of the text",
        ),
        (
            {"corrections": [{"action": "relabel", "start": 0, "end": 4, "technique": "doubt"}]},
            "needs new_technique",
        ),
        (
            {
                "corrections": [
                    {
                        "action": "remove",
                        "start": 0,
                        "end": 4,
                        "technique": "doubt",
                        "new_technique": "smears",
                    }
                ]
            },
            "only for action relabel",
        ),
        ({"corrections": [{"action": "delete", "start": 0, "end": 4, "technique": "doubt"}]}, "action"),
        ({"judgement": "evil"}, "judgement"),
        ({"text": "   "}, "empty"),
        ({"text": "a\x00b", "corrections": []}, "NUL"),
        ({"corrections": [], "judgement": None, "comment": "  "}, "feedback is empty"),
        ({"client_id": "has space"}, "client_id"),
    ],
)
def test_validation_names_the_problem(change: dict, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        _item(**change)


# --- PostgreSQL -------------------------------------------------------------------------
@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A temporary database on the local PostgreSQL (dropped afterwards); skip without one."""
    from pg import temporary_database

    with temporary_database("mindlens_feedback_store") as url:
        yield url


def test_postgresql_store(postgres_url: str) -> None:
    store = FeedbackStore(postgres_url)
    record, created = store.add(_item("pg-1"), model_name="m", model_version="7")
    assert created and store.add(_item("pg-1")) == (record, False)
    with pytest.raises(FeedbackConflictError):
        store.add(_item("pg-1", comment="changed"))
    store.mark_queued([(record.id, 42)])
    store.close()
    reopened = FeedbackStore(postgres_url)  # migrations already applied: a no-op
    again = reopened.get(record.id)
    assert again is not None and again.status == "queued" and again.label_studio_task_id == 42
    assert again.corrections == record.corrections and again.created_at == record.created_at
    assert reopened.count() == 1 and [r.id for r in reopened.list(status="queued")] == [record.id]
    reopened.close()


def test_postgresql_concurrent_first_open_migrates_once(postgres_url: str) -> None:
    """Two servers starting together on an empty database: the advisory lock serialises them."""
    stores: list[FeedbackStore] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            stores.append(FeedbackStore(postgres_url))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(stores) == 3
    assert stores[0].add(_item("pg-race"))[1] and not stores[1].add(_item("pg-race"))[1]
    for store in stores:
        store.close()
