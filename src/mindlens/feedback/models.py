"""The ``feedback`` and ``predictions`` tables (SQLAlchemy ORM). Their schema is owned by the
Alembic migrations in ``migrations/versions``: change both together, the migration test
compares them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUSES: tuple[str, ...] = ("new", "queued", "reviewed")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Feedback(Base):
    """One user's feedback on one text (corrections, judgement, comment)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(128), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    model_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    judgement: Mapped[str | None] = mapped_column(String(32), nullable=True)
    corrections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="new", server_default="new")
    label_studio_task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        UniqueConstraint("client_id", name="uq_feedback_client_id"),
        CheckConstraint("status IN ('new', 'queued', 'reviewed')", name="ck_feedback_status"),
        CheckConstraint(
            "judgement IS NULL OR judgement IN ('manipulative', 'not_manipulative', 'unsure')",
            name="ck_feedback_judgement",
        ),
        Index("ix_feedback_status_id", "status", "id"),
    )


class Prediction(Base):
    """One text the API analysed, as feedback joins it by ``request_id``: the text's hash and
    length (never the text), the served model and the spans it reported. A batch request
    records one row per text under the same request id."""

    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    endpoint: Mapped[str] = mapped_column(String(64), nullable=False)
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    text_chars: Mapped[int] = mapped_column(Integer, nullable=False)
    model_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    spans: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    document_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
