"""``mindlens_demo.service``: the demo reaches MindLens only through the serving context,
with a request id of its own per analysis (recorded for the feedback join) and feedback
problems worded as the API words them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mindlens.config import Settings
from mindlens.feedback.service import FeedbackService
from mindlens.registry import ChampionInfo
from mindlens.serving.analysis import AnalysisService
from mindlens.serving.errors import FEEDBACK_UNAVAILABLE
from mindlens.serving.metrics import Metrics
from mindlens.serving.model_store import LoadedModel, ModelStore
from mindlens.serving.plugins import ServingContext
from mindlens_demo.service import DemoService

TEXT = "They are traitors, all of them! The meeting is at noon."


class FakeAnalyzer:
    def analyze(
        self, text: str, *, min_confidence: float | None = None, title: str | None = None, **_: Any
    ) -> dict:
        hit = {"technique": "name_calling", "name": "Name calling", "trait": "attacks_on_people"}
        return {
            "sentences": [
                {
                    "index": 0,
                    "start": 0,
                    "end": len(text),
                    "text": text,
                    "techniques": [{**hit, "confidence": 0.7}],
                }
            ],
            "spans": [{**hit, "start": 9, "end": 17, "text": text[9:17], "confidence": 0.7, "sentence": 0}],
            "document": {
                "score": 0.7,
                "techniques": {"name_calling": 0.7},
                "traits": {"attacks_on_people": 0.7},
            },
            "title": {"text": text, "clickbait": None},
            "min_confidence": min_confidence or 0.0,
            "timings_ms": {"model": 0.1},
        }


def _service(settings: Settings, with_feedback: bool = True) -> tuple[DemoService, FeedbackService]:
    metrics = Metrics()
    store = ModelStore(settings, metrics)
    store._current = LoadedModel(FakeAnalyzer(), ChampionInfo("mindlens-analyzer", "4", "run-4", 0.5))
    feedback = FeedbackService(settings)
    analysis = AnalysisService(store, settings, None, feedback)
    context = ServingContext(settings, analysis, feedback if with_feedback else None)
    return DemoService(context), feedback


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DemoService, FeedbackService]]:
    service, feedback = _service(Settings(state_dir=tmp_path))
    yield service, feedback
    feedback.close()


def _payload(result: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {
        "client_id": "demo-1",
        "request_id": result["request_id"],
        "text": TEXT,
        "judgement": "manipulative",
    }
    return {**body, **changes}


def test_each_analysis_has_its_own_request_id_and_feedback_joins_it(demo) -> None:
    service, feedback = demo
    first, second = service.analyze(TEXT, 0.0), service.analyze(TEXT, 0.0)
    assert len(first["request_id"]) == 32 and first["request_id"] != second["request_id"]
    registry = service.context.analysis.store.metrics.registry
    assert registry.get_sample_value("mindlens_texts_analyzed_total", {"endpoint": "/demo"}) == 2
    ack = service.submit_feedback(_payload(first))
    assert ack["created"] is True and ack["model"] == {"name": "mindlens-analyzer", "version": "4"}
    recorded = feedback.store().predictions(first["request_id"])
    assert recorded[0].endpoint == "/demo" and recorded[0].spans[0]["technique"] == "name_calling"
    assert service.submit_feedback(_payload(first))["created"] is False  # the same click again
    assert service.model_label() == "mindlens-analyzer v4"


@pytest.mark.parametrize(
    "changes,needle",
    [
        (
            {"corrections": [{"action": "add", "start": 0, "end": 4, "technique": "lies"}]},
            "unknown technique 'lies'",
        ),
        ({"text": TEXT + "!"}, "does not match the text analysed under request_id"),
        ({"comment": "x" * 3000}, "comment is too long: 3000 characters received, the limit is 2000"),
    ],
)
def test_feedback_problems_are_worded_as_the_api_words_them(demo, changes: dict, needle: str) -> None:
    service, _ = demo
    result = service.analyze(TEXT, 0.0)
    with pytest.raises(ValueError) as refused:
        service.submit_feedback(_payload(result, **changes))
    assert needle in str(refused.value)


def test_a_reused_client_id_and_an_outage_are_refused_readably(demo, tmp_path: Path) -> None:
    service, feedback = demo
    result = service.analyze(TEXT, 0.0)
    service.submit_feedback(_payload(result))
    with pytest.raises(ValueError, match="client_id 'demo-1' was already used"):
        service.submit_feedback(_payload(result, judgement="unsure"))
    feedback.close()
    feedback.settings.feedback.database_url = "postgresql+psycopg2://nobody@127.0.0.1:1/feedback"
    with pytest.raises(ValueError) as outage:
        service.submit_feedback(_payload(result, client_id="demo-2"))
    assert str(outage.value) == FEEDBACK_UNAVAILABLE


def test_without_feedback_the_demo_says_so(tmp_path: Path) -> None:
    service, feedback = _service(Settings(state_dir=tmp_path), with_feedback=False)
    assert not service.has_feedback
    with pytest.raises(ValueError, match="not available"):
        service.submit_feedback({})
    feedback.close()


def test_a_web_page_is_analysed_through_the_same_service_and_feedback_joins_its_text(
    tmp_path: Path,
) -> None:
    """The demo's URL box: /analyze's url path (fetch, extract, analyse, record); feedback on
    the fetched article joins like a pasted text's; an unusable page is a readable ValueError."""
    from news_server import news_site

    settings = Settings(state_dir=tmp_path, url_fetch={"allowed_networks": ["127.0.0.1/32"], "timeout_s": 5})
    service, feedback = _service(settings)
    try:
        with news_site() as site:
            result = service.analyze_url(f"{site.base}/article", 0.0)
            with pytest.raises(ValueError, match="no article found"):
                service.analyze_url(f"{site.base}/no-article", 0.0)
        text = result["source"]["text"]
        assert result["source"]["title"] == "Council votes on the harbour plan as protests grow"
        assert result["sentences"][0]["text"] == text  # the fake analyzer's one sentence: the article
        registry = service.context.analysis.store.metrics.registry
        assert registry.get_sample_value("mindlens_texts_analyzed_total", {"endpoint": "/demo"}) == 1
        ack = service.submit_feedback({**_payload(result), "text": text})
        assert ack["created"] is True
    finally:
        feedback.close()


def test_the_url_box_warns_and_keeps_the_page_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from mindlens_demo.callbacks import Callbacks

    def refuse(url: str, min_confidence: float) -> dict:
        raise ValueError(f"{url} is not an HTML page (content type application/pdf)")

    warnings: list[str] = []
    monkeypatch.setattr(gr, "Warning", warnings.append)
    on = Callbacks(lambda text, min_confidence: {}, lambda: "m v1", analyze_url=refuse)
    outputs = on.run_url("https://example.org/a.pdf", 0.5)
    assert len(outputs) == 10 and all(isinstance(o, type(gr.skip())) for o in outputs)
    assert warnings == ["https://example.org/a.pdf is not an HTML page (content type application/pdf)"]
    on.run_url("   ", 0.5)
    assert warnings[-1].startswith("Please enter the address of a web page")
