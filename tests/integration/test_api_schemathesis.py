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


def test_call_sequences_along_the_schemas_links_cause_no_server_error(champion_settings, tmp_path):
    """Stateful fuzzing: POST /feedback, then GET /feedback/{id} with the id it acknowledged
    (the schema's OpenAPI links), with the admin key; every answer below 500."""
    from hypothesis import settings as hypothesis_settings
    from hypothesis.stateful import run_state_machine_as_test

    from mindlens.config import Settings
    from mindlens.serving.app import create_app

    token = "stateful-test-admin-token"
    settings_ = Settings(  # no rate limits: a 429 on a replayed example would make hypothesis's
        # rule choices depend on timing (it checks that a replay draws the same way)
        state_dir=champion_settings.state_dir,
        serving=champion_settings.serving.model_copy(
            update={"admin_token": token, "analyze_rate_limit_per_minute": 0}
        ),
        feedback=champion_settings.feedback.model_copy(
            update={"rate_limit_per_minute": 0, "database_url": f"sqlite:///{tmp_path / 'feedback.db'}"}
        ),
    )
    app = create_app(settings_, with_ui=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    links = schema.raw_schema["paths"]["/feedback"]["post"]["responses"]["201"]["links"]
    assert links["GetFeedback"]["parameters"] == {"feedback_id": "$response.body#/id"}
    base = schema.as_state_machine()
    followed: list[tuple[str, int]] = []

    class Feedback(base):  # type: ignore[misc,valid-type]
        def teardown(self):
            # every example starts from an empty store: a replayed example must meet the same
            # answers (201, not a 200 replay), or hypothesis calls the generation flaky
            from sqlalchemy import text

            with app.state.feedback.store().engine.begin() as connection:
                connection.execute(text("DELETE FROM predictions"))
                connection.execute(text("DELETE FROM feedback"))

        def get_call_kwargs(self, case):
            return {"headers": {"X-API-Key": token}}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            followed.append((case.path, response.status_code))
            assert response.status_code < 500, (
                f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
            )

    run_state_machine_as_test(
        Feedback,
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    assert any(path == "/feedback/{feedback_id}" and status == 200 for path, status in followed), followed
