"""The feedback review logic (``mindlens.feedback.review``: the user's view of a text, the
reviewer's summary, the recorded prediction a feedback item is about) and the Label Studio
queue's pure parts (``mindlens.labelling.feedback``: predictions, the review project's
config, which labels trigger what)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mindlens.data.sources import curated
from mindlens.feedback import PredictionRecord, review
from mindlens.feedback.predictions import text_sha256
from mindlens.feedback.store import FeedbackRecord, FeedbackStore
from mindlens.labelling import config as lc
from mindlens.labelling import feedback, state
from mindlens.labelling.tasks import choice_result

MODEL = [(0, 4, "loaded_language"), (9, 17, "doubt"), (20, 30, "slogans")]


def test_corrections_apply_to_the_model_spans():
    spans, none = review.apply_corrections(
        MODEL,
        [
            {"action": "confirm", "start": 0, "end": 4, "technique": "loaded_language"},
            {"action": "remove", "start": 9, "end": 17, "technique": "doubt"},
            {
                "action": "relabel",
                "start": 20,
                "end": 30,
                "technique": "slogans",
                "new_technique": "flag_waving",
            },
            {"action": "add", "start": 31, "end": 40, "technique": "name_calling"},
        ],
        "manipulative",
    )
    assert spans == [(0, 4, "loaded_language"), (20, 30, "flag_waving"), (31, 40, "name_calling")]
    assert not none


def test_untouched_model_spans_stay_for_the_reviewer_to_judge():
    spans, none = review.apply_corrections(MODEL, [], None)
    assert spans == sorted(MODEL) and not none


def test_not_manipulative_without_anything_kept_means_no_technique():
    assert review.apply_corrections(MODEL, [], "not_manipulative") == ([], True)
    kept = [{"action": "confirm", "start": 0, "end": 4, "technique": "loaded_language"}]
    spans, none = review.apply_corrections(MODEL, kept, "not_manipulative")
    assert spans == sorted(MODEL) and not none  # contradictory: left to the reviewer


def _record(**fields) -> FeedbackRecord:
    base = dict(
        id=7,
        client_id="c",
        request_id=None,
        text="Shameful lies from these people.",
        text_sha256="x",
        model_name="mindlens-analyzer",
        model_version="3",
        judgement="manipulative",
        corrections=[],
        comment=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        status="new",
        label_studio_task_id=None,
    )
    return FeedbackRecord(**(base | fields))


def test_user_prediction_is_a_label_studio_prediction_with_the_comment_as_note():
    item = _record(
        corrections=[{"action": "add", "start": 0, "end": 8, "technique": "loaded_language"}],
        comment="shaming",
    )
    prediction = feedback.user_prediction(item.text, item, [])
    assert prediction["model_version"] == "feedback #7"
    spans = [r for r in prediction["result"] if r["from_name"] == lc.TECHNIQUE]
    assert spans[0]["value"] == {"start": 0, "end": 8, "text": "Shameful", "labels": ["loaded_language"]}
    assert [r["value"] for r in prediction["result"] if r["from_name"] == lc.NOTE] == [{"text": ["shaming"]}]
    clean = feedback.user_prediction(item.text, _record(judgement="not_manipulative"), [])
    assert clean["result"] == [choice_result(lc.VERDICT, [lc.NO_TECHNIQUE])]


def test_summary_tells_the_reviewer_what_each_user_said():
    text = review.summary(
        [
            _record(corrections=[{"action": "remove"}, {"action": "remove"}], comment="not an insult"),
            _record(id=8, model_name=None),
        ]
    )
    assert text.splitlines() == [
        '#7 (mindlens-analyzer v3): judgement manipulative; 2 remove; "not an insult"',
        "#8 (model unknown): judgement manipulative; no span corrections",
    ]


def test_review_config_is_the_curated_one_plus_the_users_report():
    review = lc.feedback_label_config()
    assert (
        review.replace(
            f'  <Header value="What the user reported" size="5"/>\n'
            f'  <Text name="{lc.FEEDBACK}" value="${lc.FEEDBACK}"/>\n',
            "",
        )
        == lc.label_config()
    )


def test_feedback_triggers_retrain_and_curated_triggers_the_pipeline(tmp_path: Path):
    record = {"id": "r1", "text": "Shameful lies.", "labels": ["loaded_language"]}
    curated.write_jsonl(tmp_path / "feedback" / "0123456789abcdef.jsonl", [record])
    assert feedback.count_new_feedback(tmp_path) == 1
    assert state.count_new_labels(tmp_path) == 0  # the pipeline counts curated relabels only
    feedback.mark_retrain_triggered(tmp_path, "2026-01-01T00:00:00")
    assert feedback.count_new_feedback(tmp_path) == 0
    curated.write_jsonl(tmp_path / "curated" / "0123456789abcdef.jsonl", [record])
    assert state.count_new_labels(tmp_path) == 1 and feedback.count_new_feedback(tmp_path) == 0
    state.mark_trained(tmp_path, "2026-01-01T00:00:00")
    assert state.load_state(tmp_path).keys() >= {
        "trained_keys",
        "retrain_keys",
        "last_trigger",
        "last_retrain_trigger",
    }


def test_the_recorded_prediction_is_the_one_of_the_request_and_text(tmp_path: Path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.db'}")
    text = "Shameful lies from these people."
    result = {
        "model": {"name": "mindlens-analyzer", "version": "3"},
        "spans": [{"start": 0, "end": 8, "technique": "loaded_language", "confidence": 0.8}],
        "document": {"score": 0.8},
    }
    store.add_predictions(
        [
            PredictionRecord.from_result("req-1", "/analyze", "Another text.", result),
            PredictionRecord.from_result("req-1", "/analyze", text, result),
        ]
    )
    item = _record(request_id="req-1", text=text, text_sha256=text_sha256(text))
    found = review.recorded_prediction(store, item)
    assert found is not None and found.model_version == "3"
    assert review.spans_of(found.analysis()) == [(0, 8, "loaded_language")]
    assert review.recorded_prediction(store, _record(request_id="req-1")) is None  # another text
    assert review.recorded_prediction(store, _record(request_id=None)) is None
    assert review.recorded_prediction(store, _record(request_id="unknown")) is None
    store.close()
