"""A throwaway PostgreSQL database for tests of the production feedback store path.

The admin URL is ``MINDLENS_TEST_POSTGRES_URL`` (default: the local server on
loopback, trust auth). Without a reachable server the test is skipped, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ADMIN_URL = os.environ.get(
    "MINDLENS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def temporary_database(prefix: str = "mindlens_test") -> Iterator[str]:
    """Create a fresh database, yield its URL, drop it (even while connections remain)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as err:
        admin.dispose()
        pytest.skip(
            f"PostgreSQL not reachable at {admin.url.render_as_string(hide_password=True)} "
            f"(set MINDLENS_TEST_POSTGRES_URL): {str(err.orig).strip().splitlines()[0]}"
        )
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
