"""Create the predictions table: what the API answered, for feedback to join by request id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("text_chars", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("model_run_id", sa.String(64), nullable=True),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("document_score", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_predictions_request_id", "predictions", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_predictions_request_id", table_name="predictions")
    op.drop_table("predictions")
