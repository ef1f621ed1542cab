"""The Gradio demo mounted at /demo, driven like a user's script through gradio_client."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow

TEXT = ("Every true patriot will stand with us on this. "
        "The committee will publish its report on Tuesday. Make our streets safe again!")


@pytest.fixture(scope="module")
def demo_client(live_server: str):
    from gradio_client import Client

    return Client(f"{live_server}/demo/", verbose=False)


def _fragments(highlighted: object) -> list[tuple[str, str | None]]:
    """gradio_client returns HighlightedText as dicts or pairs depending on version."""
    if isinstance(highlighted, dict) and "value" in highlighted:
        highlighted = highlighted["value"]
    pieces = []
    for item in highlighted or []:
        if isinstance(item, dict):
            pieces.append((item["token"], item.get("class_or_confidence")))
        else:
            pieces.append((item[0], item[1]))
    return pieces


def test_demo_page_serves(live_server: str) -> None:
    response = httpx.get(f"{live_server}/demo/", timeout=30)
    assert response.status_code == 200 and "<html" in response.text.lower()


def test_demo_predict_highlights_the_text(demo_client) -> None:
    highlighted, table, model = demo_client.predict(TEXT, 0.0, api_name="/analyze")
    pieces = _fragments(highlighted)
    assert "".join(token for token, _ in pieces) == TEXT  # the whole text, in order
    for sentence in ("Every true patriot will stand with us on this.",
                     "Make our streets safe again!"):
        assert any(token.strip() == sentence for token, _ in pieces)
    assert any(label for _, label in pieces)  # threshold 0: every sentence gets its top technique
    rows = table["data"] if isinstance(table, dict) else table
    scores = [row[2] for row in rows]
    assert scores and scores == sorted(scores, reverse=True)
    assert " v" in model


def test_demo_empty_input_is_friendly(demo_client) -> None:
    highlighted, _table, model = demo_client.predict("   ", 0.5, api_name="/analyze")
    assert not _fragments(highlighted)
    assert "Model" in model


def test_fragment_highlights_cover_the_text_and_prefer_confident_overlaps() -> None:
    from mindlens_demo.app import fragment_highlights

    text = "They are corrupt traitors, frankly."
    spans = [{"start": 9, "end": 25, "confidence": 0.6, "name": "Loaded language"},
             {"start": 17, "end": 25, "confidence": 0.9, "name": "Name calling / labeling"}]
    pieces = fragment_highlights(text, spans)
    assert "".join(p for p, _ in pieces) == text
    assert pieces == [("They are ", None), ("corrupt ", "Loaded language"),
                      ("traitors", "Name calling / labeling"), (", frankly.", None)]
