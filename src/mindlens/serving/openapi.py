"""The OpenAPI schema states the whole contract: the limits in force (from the settings, so the
schema of a server says what that server accepts), the error bodies of every status code
(422: ``ValidationErrorResponse``; every other 4xx and the 500: ``ErrorResponse``) and the
``X-Request-ID`` header every response carries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from mindlens.config import Settings

_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
_VALIDATION = {"$ref": "#/components/schemas/ValidationErrorResponse"}
_REQUEST_ID = {
    "X-Request-ID": {
        "description": "The request's id (the caller's, when a sane token, else a new one); "
        "every log line of the request carries it.",
        "schema": {"type": "string"},
    }
}


def _limits(schemas: dict[str, Any], settings: Settings) -> None:
    """The size limits of this server, where its request bodies name them."""
    max_text = settings.serving.max_text_chars

    def prop(model: str, name: str) -> dict[str, Any]:
        return schemas.get(model, {}).get("properties", {}).get(name, {})

    prop("AnalyzeRequest", "text")["maxLength"] = max_text
    prop("AnalyzeRequest", "text")["minLength"] = 1
    texts = prop("BatchRequest", "texts")
    texts["maxItems"] = settings.serving.max_batch_texts
    texts.setdefault("items", {}).update({"maxLength": max_text, "minLength": 1})
    for model in ("FeedbackIn", "FeedbackIn-Input"):
        prop(model, "text").update({"maxLength": max_text, "minLength": 1})
        prop(model, "corrections")["maxItems"] = settings.feedback.max_corrections
        for option in prop(model, "comment").get("anyOf", []):
            if option.get("type") == "string":
                option["maxLength"] = settings.feedback.max_comment_chars


# OpenAPI links: how one answer feeds the next call (clients and stateful fuzzing follow them)
_LINKS = {
    ("/feedback", "post", "201"): {
        "GetFeedback": {
            "operationId": "get_feedback_feedback__feedback_id__get",
            "parameters": {"feedback_id": "$response.body#/id"},
            "description": "The stored item (admin key): its `id` is the acknowledgement's `id`.",
        }
    },
    ("/feedback", "post", "200"): {
        "GetFeedback": {
            "operationId": "get_feedback_feedback__feedback_id__get",
            "parameters": {"feedback_id": "$response.body#/id"},
            "description": "The item the replay matched.",
        }
    },
}


def _links(schema: dict[str, Any]) -> None:
    operations = {op.get("operationId") for item in schema.get("paths", {}).values() for op in item.values()}
    for (path, method, status), links in _LINKS.items():
        response = schema.get("paths", {}).get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is not None and all(link["operationId"] in operations for link in links.values()):
            response["links"] = links


def build_schema(app: FastAPI, settings: Settings) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _limits(components, settings)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:  # FastAPI's default body is not what the API answers
                responses["422"] = {
                    "description": "The request does not match the schema (every problem listed).",
                    "content": {"application/json": {"schema": _VALIDATION}},
                }
            if "requestBody" in operation:
                responses.setdefault(
                    "400",
                    {
                        "description": "The request cannot be read (e.g. an unreadable body).",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                )
            responses.setdefault(
                "500",
                {
                    "description": "A bug: `internal server error`, nothing more; the server log has the "
                    "details under the response's X-Request-ID.",
                    "content": {"application/json": {"schema": _ERROR}},
                },
            )
            for response in responses.values():
                response.setdefault("headers", {}).update(_REQUEST_ID)
    _links(schema)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI, settings: Settings) -> None:
    """Serve ``build_schema`` at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_schema(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
