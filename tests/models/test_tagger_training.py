"""The transformer family end to end on a tiny random encoder: train (notebook), export to
ONNX, combine into an analyzer, log to MLflow, load it back as the API would."""

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_backbone(tmp_path_factory):
    """A 2-layer, 32-wide BERT with the MiniLM tokenizer: the real code path, seconds to train."""
    from tiny_tagger import tiny_backbone_folder

    return tiny_backbone_folder(tmp_path_factory.mktemp("tiny-bert"))


def test_tagger_candidate_trains_exports_and_serves(champion_settings, tiny_backbone):
    from mindlens import pipeline
    from mindlens.data.dataset import MANIFEST
    from mindlens.registry import load_analyzer

    candidate = {
        "name": "tiny-tagger",
        "family": "tagger",
        "params": {
            "backbone": tiny_backbone,
            "epochs": 2,
            "max_train_sentences": 96,
            "max_val_sentences": 48,
            "batch_size": 16,
        },
    }
    result = pipeline.train_candidate(candidate, str(champion_settings.processed_dir / MANIFEST))
    for metric in ("val_micro_f1", "val_flc_f1", "val_si_f1", "val_tc_micro_f1", "val_latency_p95_ms"):
        assert metric in result["metrics"], metric

    analyzer, ref = load_analyzer(champion_settings, result["model_uri"])
    assert analyzer.span_model is not None and analyzer.sentence_model is None
    assert type(analyzer.span_model).__name__ == "OnnxTagger"
    text = "They are corrupt traitors and liars. The meeting is at noon."
    out = analyzer.analyze(text, min_confidence=0.0)
    assert out["spans"], "threshold 0 keeps every decoded fragment"
    for span in out["spans"]:
        assert text[span["start"] : span["end"]] == span["text"]
    assert [s["text"] for s in out["sentences"]] == [
        "They are corrupt traitors and liars.",
        "The meeting is at noon.",
    ]

    import mlflow

    run = mlflow.MlflowClient().get_run(result["run_id"])
    assert run.data.tags["model_family"] == "transformer_tagger"
    assert "epoch_val_flc_f1" in run.data.metrics
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result["run_id"], "reports")}
    assert any(p.endswith(".ipynb") for p in artifacts)
