"""``/analyze``, ``/analyze/batch`` and ``/techniques``: the analysis API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mindlens import taxonomy
from mindlens.serving.deps import AnalysisDep
from mindlens.serving.errors import responses
from mindlens.serving.rate_limit import client_address
from mindlens.serving.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    BatchRequest,
    BatchResponse,
    TechniqueInfo,
)

router = APIRouter(tags=["analysis"])


@router.post("/analyze", response_model=AnalyzeResponse, responses=responses(413, 415, 422, 429, 503))
def analyze(body: AnalyzeRequest, request: Request, analysis: AnalysisDep) -> dict[str, Any]:
    """Split the text into sentences and score each for manipulation techniques; with ``url``
    instead of ``text``, first fetch the page and extract its article (``source`` says which)."""
    client = client_address(request)
    if body.url is not None:
        return analysis.analyze_url(body.url, body.min_confidence, body.title, client=client)
    assert body.text is not None  # the schema asks for exactly one of them
    return analysis.analyze(body.text, body.min_confidence, body.title, client=client)


@router.post("/analyze/batch", response_model=BatchResponse, responses=responses(413, 422, 429, 503))
def analyze_batch(body: BatchRequest, request: Request, analysis: AnalysisDep) -> dict[str, Any]:
    """Several texts in one call (at most ``serving.max_batch_texts``; every text counts
    against the per-address limit, and the batch must fit ``serving.max_request_s``)."""
    return {
        "results": analysis.analyze_batch(body.texts, body.min_confidence, client=client_address(request))
    }


@router.get("/techniques", response_model=list[TechniqueInfo])
def techniques() -> list[TechniqueInfo]:
    """Every technique MindLens knows, with its trait, definition, example and colour."""
    return [
        TechniqueInfo(
            id=t.id,
            name=t.name,
            trait=t.trait,
            trait_name=taxonomy.trait(t.trait).name,
            definition=t.definition,
            example=t.example,
            color=t.color,
        )
        for t in taxonomy.TECHNIQUES
    ]
