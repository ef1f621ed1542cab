"""The Gradio demo mounted at /demo, driven like a user's script through gradio_client."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.slow

TEXT = (
    "Every true patriot will stand with us on this. "
    "The committee will publish its report on Tuesday. Make our streets safe again!"
)


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


def _rows(table: object) -> list[list]:
    return table["data"] if isinstance(table, dict) else table


def test_demo_predict_highlights_the_text(demo_client) -> None:
    highlighted, details, counts, traits, clickbait, summary = demo_client.predict(
        TEXT, 0.0, api_name="/analyze"
    )
    pieces = _fragments(highlighted)
    assert "".join(token for token, _ in pieces) == TEXT  # the whole text, in order
    for sentence in ("Every true patriot will stand with us on this.", "Make our streets safe again!"):
        assert any(token.strip() == sentence for token, _ in pieces)
    assert any(label for _, label in pieces)  # threshold 0: every sentence gets its top technique
    rows = _rows(details)
    assert rows
    for start, end, fragment, technique, trait, confidence, _quoted, _evidence in rows:
        assert 0 <= start < end <= len(TEXT) and TEXT[start:end] == fragment
        assert technique and trait and 0.0 <= confidence <= 1.0
    assert sum(row[2] for row in _rows(counts)) == len(rows)
    assert traits["confidences"]  # trait bars at confidence 0
    assert clickbait["label"]  # a score, or "No clickbait model"
    assert " v" in summary and f"{len(rows)} fragments" in summary


def test_demo_slider_refilters_the_kept_result(demo_client) -> None:
    demo_client.predict(TEXT, 0.0, api_name="/analyze")
    _, all_rows, *_ = demo_client.predict(0.0, api_name="/filter")
    _, high_rows, _, traits, _, high_summary = demo_client.predict(0.6, api_name="/filter")
    assert len(_rows(high_rows)) < len(_rows(all_rows))
    assert all(row[5] >= 0.6 for row in _rows(high_rows))
    assert "confidence ≥ 0.60" in high_summary
    assert all(c["confidence"] >= 0.6 for c in traits.get("confidences") or [])


def test_demo_examples_load(demo_client) -> None:
    from mindlens_demo.inputs import load_examples

    examples = load_examples()
    assert 3 <= len(examples) <= 4
    for name, text in examples.items():
        title, loaded = demo_client.predict(name, api_name="/load_example")
        assert loaded == text and title == ""
        *_, summary = demo_client.predict(loaded, 0.5, api_name="/analyze")
        assert "sentences flagged" in summary


def test_demo_empty_input_is_friendly(demo_client) -> None:
    highlighted, details, *_, summary = demo_client.predict("   ", 0.5, api_name="/analyze")
    assert not _fragments(highlighted) and not _rows(details)
    assert "Model" in summary


def test_filter_result_matches_the_model_at_that_threshold(champion_settings) -> None:
    from mindlens.serving.analysis import analyze_text
    from mindlens.serving.metrics import Metrics
    from mindlens.serving.model_store import ModelStore
    from mindlens_demo.render import filter_result

    store = ModelStore(champion_settings, Metrics())
    store.reload()
    full = analyze_text(store, champion_settings, TEXT, 0.0)
    for threshold in (0.2, 0.5, 0.8):
        direct = analyze_text(store, champion_settings, TEXT, threshold)
        filtered = filter_result(full, threshold)
        assert filtered["spans"] == direct["spans"]
        assert filtered["sentences"] == direct["sentences"]


def test_render_lists_every_overlapping_span() -> None:
    from mindlens_demo.render import render

    text = "They are corrupt traitors, frankly."
    span = {
        "technique": "loaded_language",
        "name": "Loaded language",
        "trait": "emotional_language",
        "sentence": 0,
    }
    full = {
        "sentences": [],
        "document": {"traits": {"emotional_language": 0.9}},
        "title": {"text": "They", "clickbait": 0.25},
        "spans": [
            {
                **span,
                "start": 9,
                "end": 25,
                "text": text[9:25],
                "confidence": 0.6,
                "quoted": True,
                "speaker": "the mayor",
                "evidence": [{"signal": "s", "words": [{"start": 9, "end": 16, "text": "corrupt"}]}],
            },
            {**span, "start": 17, "end": 25, "text": text[17:25], "confidence": 0.3},
        ],
    }
    _, details, counts, traits, clickbait, summary = render(text, full, 0.0, "m v1")
    assert details.values.tolist() == [
        [9, 25, "corrupt traitors", "Loaded language", "Emotional language", 0.6, "the mayor", "corrupt"],
        [17, 25, "traitors", "Loaded language", "Emotional language", 0.3, "", ""],
    ]
    assert counts.values.tolist() == [["Loaded language", "Emotional language", 2, 0.6]]
    assert traits == {"Emotional language": 0.9}
    assert clickbait == {"Clickbait": 0.25, "Not clickbait": 0.75}
    assert "2 fragments" in summary
    _, details, *_ = render(text, full, 0.5, "m v1")
    assert len(details) == 1
    assert render(text, full, 0.95, "m v1")[3].startswith("No trait")
    assert render(text, {**full, "title": {"text": "x", "clickbait": None}}, 0, "m")[4] == (
        "No clickbait model"
    )


def test_read_upload_warns_on_binary_and_big_files(tmp_path) -> None:
    from mindlens_demo.inputs import read_upload

    good = tmp_path / "good.txt"
    good.write_bytes("\ufeffCafé au lait.".encode("utf-8"))
    assert read_upload(good) == "Café au lait."
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Café".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        read_upload(latin)
    with pytest.raises(ValueError, match="too big"):
        read_upload(good, max_bytes=5)


def test_title_is_passed_only_to_analyzers_that_take_it() -> None:
    from mindlens_demo.callbacks import accepts_title

    assert not accepts_title(lambda text, min_confidence: {})
    assert accepts_title(lambda text, min_confidence, title=None: {})
    assert accepts_title(lambda text, min_confidence, **kwargs: {})


def test_fragment_highlights_cover_the_text_and_prefer_confident_overlaps() -> None:
    from mindlens_demo.render import fragment_highlights

    text = "They are corrupt traitors, frankly."
    spans = [
        {"start": 9, "end": 25, "confidence": 0.6, "name": "Loaded language"},
        {"start": 17, "end": 25, "confidence": 0.9, "name": "Name calling / labeling"},
    ]
    pieces = fragment_highlights(text, spans)
    assert "".join(p for p, _ in pieces) == text
    assert pieces == [
        ("They are ", None),
        ("corrupt ", "Loaded language"),
        ("traitors", "Name calling / labeling"),
        (", frankly.", None),
    ]


def test_demo_feedback_is_stored_and_joined_to_the_prediction(demo_client) -> None:
    """Analyze, add a missed fragment, judge, send: the acknowledged row is in the database."""
    from mindlens.config import get_settings
    from mindlens.feedback import FeedbackStore

    demo_client.predict(TEXT, 0.0, api_name="/analyze")
    start = TEXT.index("The committee")
    end = TEXT.index("Tuesday.") + len("Tuesday.")
    pending = demo_client.predict(start, end, "doubt", api_name="/add_fragment")
    assert "“The committee will publish its report on Tuesday.” is Doubt (missed)" in pending
    ack = demo_client.predict("manipulative", "sent by the gradio_client test", api_name="/feedback")
    match = re.search(r"feedback #(\d+) stored \(1 correction\)", ack)
    assert match, ack
    store = FeedbackStore(str(get_settings().feedback.database_url))  # the server's database
    record = store.get(int(match.group(1)))
    store.close()
    assert record is not None and record.text == TEXT and record.judgement == "manipulative"
    assert record.corrections == [{"action": "add", "start": start, "end": end, "technique": "doubt"}]
    assert record.comment == "sent by the gradio_client test"
    assert record.request_id and record.model_version  # joined to its recorded prediction
    again = demo_client.predict("manipulative", "sent by the gradio_client test", api_name="/feedback")
    assert f"Already received: feedback #{record.id}" in again  # a double click stores nothing new
    changed = demo_client.predict("unsure", "second thoughts", api_name="/feedback")
    assert "stored" in changed and f"#{record.id} " not in changed  # new content: a new item


def test_demo_feedback_without_analysis_or_content_warns(live_server: str) -> None:
    from gradio_client import Client

    fresh = Client(f"{live_server}/demo/", verbose=False)  # its own session, nothing analysed
    assert "Analyze a text first" in fresh.predict(0, 5, "doubt", api_name="/add_fragment")
    assert "Analyze a text first" in fresh.predict("unsure", "", api_name="/feedback")
    fresh.predict(TEXT, 0.5, api_name="/analyze")
    assert "Select the missed fragment" in fresh.predict(5, 2, "doubt", api_name="/add_fragment")
    assert "Pick the technique" in fresh.predict(0, 5, None, api_name="/add_fragment")
    assert "Nothing to send yet" in fresh.predict(None, "  ", api_name="/feedback")


def test_feedback_payload_from_verdicts_and_added_fragments() -> None:
    from mindlens_demo.corrections import (
        corrections_from,
        feedback_payload,
        new_pending,
        pending_summary,
        span_key,
        verdict_choices,
    )

    text = "They are corrupt traitors, frankly."
    spans = [
        {"start": 9, "end": 25, "technique": "loaded_language", "confidence": 0.6},
        {"start": 17, "end": 25, "technique": "name_calling", "confidence": 0.9},
        {"start": 0, "end": 4, "technique": "doubt", "confidence": 0.2},
    ]
    pending = new_pending()
    pending["verdicts"] = {
        span_key(spans[0]): "relabel:smears",
        span_key(spans[1]): "confirm",
        span_key(spans[2]): "remove",
        "1:2:slogans": "confirm",
    }  # stale key: skipped
    pending["added"] = [{"action": "add", "start": 27, "end": 34, "technique": "doubt"}]
    corrections = corrections_from(pending, spans)
    assert corrections == [
        {"action": "remove", "start": 0, "end": 4, "technique": "doubt"},
        {
            "action": "relabel",
            "start": 9,
            "end": 25,
            "technique": "loaded_language",
            "new_technique": "smears",
        },
        {"action": "confirm", "start": 17, "end": 25, "technique": "name_calling"},
        {"action": "add", "start": 27, "end": 34, "technique": "doubt"},
    ]
    summary = pending_summary(text, corrections)
    assert "✗ “They” is not Doubt" in summary and "“frankly” is Doubt (missed)" in summary
    assert "is Smears, not Loaded language" in summary
    payload = feedback_payload(
        {"text": text, "result": {"spans": spans, "request_id": "r1"}}, pending, "unsure", "  "
    )
    assert payload["request_id"] == "r1" and payload["comment"] is None
    assert payload["client_id"] == pending["client_id"] and payload["judgement"] == "unsure"
    from mindlens.feedback import FeedbackIn

    FeedbackIn.model_validate(payload)  # what the demo sends is what the API accepts
    values = [value for _, value in verdict_choices("doubt")]
    assert values[:2] == ["confirm", "remove"] and "relabel:doubt" not in values
    assert new_pending()["client_id"] != pending["client_id"]


def test_browser_offsets_become_code_points() -> None:
    from mindlens_demo.corrections import utf16_to_index

    text = "Wow 😡 they lie"  # the emoji is one code point, two UTF-16 units
    assert [utf16_to_index(text, n) for n in (0, 4, 6, 7, 16)] == [0, 4, 5, 6, len(text)]
    assert text[utf16_to_index(text, 7) : utf16_to_index(text, 11)] == "they"
