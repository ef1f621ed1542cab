"""Alembic migrations of the feedback store (applied by ``FeedbackStore`` on start)."""
