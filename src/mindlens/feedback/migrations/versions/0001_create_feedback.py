"""Create the feedback table.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("judgement", sa.String(32), nullable=True),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("label_studio_task_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint("client_id", name="uq_feedback_client_id"),
        sa.CheckConstraint("status IN ('new', 'queued', 'reviewed')", name="ck_feedback_status"),
        sa.CheckConstraint(
            "judgement IS NULL OR judgement IN ('manipulative', 'not_manipulative', 'unsure')",
            name="ck_feedback_judgement",
        ),
    )
    op.create_index("ix_feedback_request_id", "feedback", ["request_id"])
    op.create_index("ix_feedback_text_sha256", "feedback", ["text_sha256"])
    op.create_index("ix_feedback_status_id", "feedback", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_status_id", table_name="feedback")
    op.drop_index("ix_feedback_text_sha256", table_name="feedback")
    op.drop_index("ix_feedback_request_id", table_name="feedback")
    op.drop_table("feedback")
