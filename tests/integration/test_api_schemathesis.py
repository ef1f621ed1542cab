"""Property-based fuzzing of every endpoint from the OpenAPI schema: no input may cause a 5xx."""

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.slow


def test_no_input_causes_a_server_error(champion_settings):
    from mindlens.serving.app import create_app

    app = create_app(champion_settings, with_ui=False)
    app.state.store.reload()  # the ASGI transport runs no lifespan: load the champion here
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/analyze", "/analyze/batch", "/techniques", "/version"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            response = case.call()
            assert response.status_code < 500, (
                f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
            )

        fuzz()
