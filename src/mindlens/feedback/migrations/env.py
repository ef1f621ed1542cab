"""Alembic environment for the feedback store.

``FeedbackStore`` runs ``upgrade head`` programmatically and hands over its open
connection in ``config.attributes["connection"]``; the ``alembic`` command line
(``-x url=...`` or ``sqlalchemy.url``) works too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from mindlens.feedback.models import Base

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = "feedback_alembic_version"  # not alembic_version: the DB may hold other apps' tables


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from mindlens.config import get_settings

        url = get_settings().feedback.database_url
    return str(url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
