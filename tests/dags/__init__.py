"""DAG tests. A package so that its conftest.py is ``dags.conftest`` and does not take the
module name ``conftest`` from tests/conftest.py (which test modules import helpers from)."""
