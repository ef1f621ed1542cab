"""The durable feedback store: SQLite by default, PostgreSQL (or any SQLAlchemy URL) by config.

It holds the users' feedback and the predictions it refers to (``predictions``: what the
API answered under each request id, written by ``PredictionRecorder``), so feedback joins
its prediction in the database.

Every write commits before it returns, so a caller that acknowledges after
``add`` never acknowledges something a crash can lose (SQLite runs with
``synchronous=FULL``). The schema is migrated to the latest Alembic revision
when a store opens. Database failures surface as ``FeedbackUnavailableError``
(the API answers 503); a reused ``client_id`` with other content as
``FeedbackConflictError`` (409).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from mindlens.feedback.models import STATUSES, Feedback, Prediction, utcnow
from mindlens.feedback.predictions import PredictionRecord, text_sha256
from mindlens.feedback.schemas import FeedbackIn

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x6D6C6662  # PostgreSQL advisory lock key held while migrating ("mlfb")


class FeedbackError(Exception):
    """Base class of the store's errors."""


class FeedbackConflictError(FeedbackError):
    """The ``client_id`` is already stored with different content."""

    def __init__(self, client_id: str, existing_id: int) -> None:
        super().__init__(
            f"client_id {client_id!r} was already used for different feedback "
            f"(id {existing_id}); send a new client_id for new feedback"
        )
        self.client_id = client_id
        self.existing_id = existing_id


class FeedbackUnavailableError(FeedbackError):
    """The database cannot be reached or refused the operation; nothing was stored."""


@dataclass(frozen=True)
class FeedbackRecord:
    """One stored feedback item (a plain copy of the row, safe to pass between threads)."""

    id: int
    client_id: str
    request_id: str | None
    text: str
    text_sha256: str
    model_name: str | None
    model_version: str | None
    judgement: str | None
    corrections: list[dict[str, Any]]
    comment: str | None
    created_at: datetime
    status: str
    label_studio_task_id: int | None

    def content(self) -> dict[str, Any]:
        """The user's content, comparable with ``FeedbackIn.content()``."""
        return {
            "request_id": self.request_id,
            "text": self.text,
            "judgement": self.judgement,
            "comment": self.comment,
            "corrections": self.corrections,
        }

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["created_at"] = self.created_at.isoformat()
        return data


def _utc(created: datetime) -> datetime:
    """SQLite keeps no zone; every value was written in UTC."""
    return created.replace(tzinfo=UTC) if created.tzinfo is None else created


def _record(row: Feedback) -> FeedbackRecord:
    return FeedbackRecord(
        id=row.id,
        client_id=row.client_id,
        request_id=row.request_id,
        text=row.text,
        text_sha256=row.text_sha256,
        model_name=row.model_name,
        model_version=row.model_version,
        judgement=row.judgement,
        corrections=list(row.corrections or []),
        comment=row.comment,
        created_at=_utc(row.created_at),
        status=row.status,
        label_studio_task_id=row.label_studio_task_id,
    )


def _prediction(row: Prediction) -> PredictionRecord:
    return PredictionRecord(
        request_id=row.request_id,
        endpoint=row.endpoint,
        text_sha256=row.text_sha256,
        text_chars=row.text_chars,
        model_name=row.model_name,
        model_version=row.model_version,
        model_run_id=row.model_run_id,
        spans=list(row.spans or []),
        document_score=row.document_score,
        created_at=_utc(row.created_at),
    )


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=FULL")  # a commit is on disk before it returns
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg2", "psycopg"):
        connect_args["connect_timeout"] = 5  # an outage answers 503 quickly instead of hanging
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


class FeedbackStore:
    """Feedback rows behind one SQLAlchemy engine; opening it applies pending migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _make_engine(url)
        except (SQLAlchemyError, ValueError, ImportError) as err:
            raise FeedbackUnavailableError(f"invalid feedback database URL {redact(url)}: {err}") from err
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            self.migrate()
        except BaseException:
            self.engine.dispose()  # a failed open leaves no pool behind (callers retry)
            raise

    def __repr__(self) -> str:
        return f"FeedbackStore({redact(self.url)!r})"

    # --- schema -----------------------------------------------------------------------
    def migrate(self) -> None:
        """``alembic upgrade head`` on this store's database (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self._db("migrate"), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # two servers starting at once: one migrates
                connection.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()

    # --- writes -----------------------------------------------------------------------
    def add(
        self, item: FeedbackIn, *, model_name: str | None = None, model_version: str | None = None
    ) -> tuple[FeedbackRecord, bool]:
        """Store ``item`` once per ``client_id``; returns (record, created).

        A replay (same client_id, same content) returns the stored record and
        ``False``; the same client_id with other content raises FeedbackConflictError.
        Returns only after the row is committed.
        """
        content = item.content()
        with self._db("add"), self._sessions() as session:
            existing = self._by_client_id(session, item.client_id)
            if existing is not None:
                return self._replay(existing, content), False
            row = Feedback(
                client_id=item.client_id,
                request_id=item.request_id,
                text=item.text,
                text_sha256=text_sha256(item.text),
                model_name=model_name,
                model_version=model_version,
                judgement=item.judgement,
                corrections=content["corrections"],
                comment=item.comment,
                created_at=utcnow(),
                status="new",
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # a concurrent request with the same client_id won the race
                session.rollback()
                existing = self._by_client_id(session, item.client_id)
                if existing is None:
                    raise
                return self._replay(existing, content), False
            return _record(row), True

    def mark_queued(self, pairs: builtins.list[tuple[int, int]]) -> None:
        """Record that feedback ``id`` became Label Studio task ``task_id`` (status queued)."""
        if not pairs:
            return
        with self._db("mark_queued"), self._sessions() as session, session.begin():
            self._require(session, [fid for fid, _ in pairs])
            for feedback_id, task_id in pairs:
                session.execute(
                    update(Feedback)
                    .where(Feedback.id == feedback_id)
                    .values(status="queued", label_studio_task_id=int(task_id))
                )

    def mark_reviewed(self, ids: builtins.list[int]) -> None:
        """Mark feedback as reviewed (its Label Studio annotation was pulled)."""
        if not ids:
            return
        with self._db("mark_reviewed"), self._sessions() as session, session.begin():
            self._require(session, ids)
            session.execute(update(Feedback).where(Feedback.id.in_(list(ids))).values(status="reviewed"))

    def add_predictions(self, records: Sequence[PredictionRecord]) -> None:
        """Store what the API answered (one transaction for the batch)."""
        if not records:
            return
        with self._db("add_predictions"), self._sessions() as session, session.begin():
            session.add_all(
                Prediction(
                    request_id=r.request_id,
                    endpoint=r.endpoint,
                    text_sha256=r.text_sha256,
                    text_chars=r.text_chars,
                    model_name=r.model_name,
                    model_version=r.model_version,
                    model_run_id=r.model_run_id,
                    spans=r.spans,
                    document_score=r.document_score,
                    created_at=r.created_at,
                )
                for r in records
            )

    # --- reads ------------------------------------------------------------------------
    def predictions(self, request_id: str) -> builtins.list[PredictionRecord]:
        """The predictions answered under ``request_id`` (a batch has several), newest first."""
        query = select(Prediction).where(Prediction.request_id == request_id).order_by(Prediction.id.desc())
        with self._db("predictions"), self._sessions() as session:
            return [_prediction(row) for row in session.scalars(query)]

    def get(self, feedback_id: int) -> FeedbackRecord | None:
        with self._db("get"), self._sessions() as session:
            row = session.get(Feedback, feedback_id)
            return _record(row) if row is not None else None

    def list(self, status: str | None = None, limit: int | None = None) -> builtins.list[FeedbackRecord]:
        """Feedback in arrival order (oldest first), optionally one status, at most ``limit``."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
        query = select(Feedback).order_by(Feedback.id)
        if status is not None:
            query = query.where(Feedback.status == status)
        if limit is not None:
            query = query.limit(max(0, int(limit)))
        with self._db("list"), self._sessions() as session:
            return [_record(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._db("count"), self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)

    # --- helpers ----------------------------------------------------------------------
    @staticmethod
    def _by_client_id(session: Session, client_id: str) -> Feedback | None:
        return session.scalar(select(Feedback).where(Feedback.client_id == client_id))

    @staticmethod
    def _replay(existing: Feedback, content: dict[str, Any]) -> FeedbackRecord:
        record = _record(existing)
        if record.content() != content:
            raise FeedbackConflictError(record.client_id, record.id)
        return record

    @staticmethod
    def _require(session: Session, ids: builtins.list[int]) -> None:
        wanted = {int(i) for i in ids}
        found = set(session.scalars(select(Feedback.id).where(Feedback.id.in_(wanted))))
        missing = sorted(wanted - found)
        if missing:
            raise LookupError(f"no feedback with id {', '.join(map(str, missing))}")

    @contextmanager
    def _db(self, operation: str) -> Iterator[None]:
        """Database failures as FeedbackUnavailableError, logged with the details."""
        try:
            yield
        except IntegrityError:
            raise
        except SQLAlchemyError as err:
            log.error("feedback store %s failed on %s: %s", operation, redact(self.url), err)
            raise FeedbackUnavailableError(
                f"the feedback database is unavailable ({type(err).__name__} during {operation}); "
                "nothing was stored, try again later"
            ) from err
