"""The transformer families (span, sentence, tc, clickbait, multitask) on a tiny random
encoder and a small PTC + clickbait slice: each trains, the release path exports it and
the analyzer uses the heads it has (TC second opinion, clickbait title score)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[2]
TEXT = (
    "SHOCKING: you won't believe what they did\nThey are corrupt traitors and liars. The meeting is at noon."
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Settings with a private state folder holding a PTC + clickbait slice, its manifest,
    and a 2-layer 32-wide BERT with the MiniLM tokenizer."""
    from tiny_tagger import tiny_backbone_folder

    from mindlens.config import Settings
    from mindlens.data.prepare import prepare_dataset
    from mindlens.data.sources.base import DataNotFoundError

    settings = Settings(state_dir=tmp_path_factory.mktemp("families-state"))
    try:
        manifest = prepare_dataset(settings, max_documents=12, sources=["ptc", "clickbait"])
    except DataNotFoundError as err:
        pytest.skip(f"datasets unavailable: {err}")
    return settings, manifest, tiny_backbone_folder(tmp_path_factory.mktemp("tiny-bert"))


def _train(small, family: str, tmp_path: Path, **extra):  # type: ignore[no-untyped-def]
    """The family through the one training entry point, untracked (the GPU machine's way)."""
    from mindlens.data.dataset import MANIFEST
    from mindlens.training import train

    settings, manifest, backbone = small
    params = {
        "backbone": backbone,
        "epochs": 1,
        "batch_size": 16,
        "max_length": 48,
        "max_train_sentences": 48,
        "max_val_sentences": 32,
        "max_clickbait_headlines": 32,
        "device": "cpu",
    }
    trained = train(
        settings, Path(manifest.folder) / MANIFEST, family, params | extra, out=tmp_path / family, track=False
    )
    assert trained.folder == tmp_path / family / "best" and trained.config.family == family
    return trained.tagger, trained.metrics


@pytest.mark.parametrize(
    ("family", "metric"),
    [
        ("span", "val_flc_f1"),
        ("sentence", "val_micro_f1"),
        ("tc", "val_tc_micro_f1"),
        ("clickbait", "val_clickbait_f1"),
    ],
)
def test_family_trains_its_heads(small, tmp_path: Path, family: str, metric: str) -> None:
    from mindlens.families import family as get_family
    from mindlens.models.torch_tagger import TorchTagger

    tagger, metrics = _train(small, family, tmp_path)
    assert tagger.heads == list(get_family(family).heads)
    assert metric in metrics and 0.0 <= metrics[metric] <= 1.0
    saved = TorchTagger.load(tmp_path / family / "best")
    assert saved.heads == tagger.heads
    assert {k: v for k, v in saved.config.metrics.items() if k.startswith("val_")} == {
        k: v for k, v in metrics.items() if k.startswith("val_")
    }
    assert saved.config.metrics["best_epoch"] == metrics["best_epoch"]  # provenance for the release
    assert saved.config.metrics["train_wall_seconds"] > 0


def test_multitask_with_context_exports_and_serves(small, tmp_path: Path) -> None:
    """All four heads and neighbouring-sentence context: exported to ONNX in a bundle, the
    analyzer takes the title's clickbait score and each fragment's TC opinion from it, and
    TC (evaluation and the official format) uses the TC head."""
    from mindlens.evaluation.evaluate import _span_tasks
    from mindlens.evaluation.predictions import sentence_predictions
    from mindlens.evaluation.ptc_predict import predict_tc
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.onnx_tagger import OnnxTagger, export_onnx
    from mindlens.models.tagger_config import HEADS
    from mindlens.schema import Document

    settings, manifest, _ = small
    tagger, metrics = _train(small, "multitask", tmp_path, context_sentences=1)
    for key in ("val_flc_f1", "val_micro_f1", "val_tc_micro_f1", "val_clickbait_f1"):
        assert key in metrics, key
    export_onnx(tagger, tmp_path / "onnx")
    Analyzer(None, span_model=OnnxTagger.load(tmp_path / "onnx")).save(tmp_path / "bundle")
    analyzer = Analyzer.load(tmp_path / "bundle")
    assert analyzer.span_model.heads == list(HEADS) and analyzer.clickbait_model is None
    assert analyzer.has_tc_head and analyzer.reads_context
    out = analyzer.analyze(TEXT, min_confidence=0.0)
    head = analyzer.span_model.tag([out["title"]["text"]])[0].clickbait
    assert out["title"]["clickbait"] == pytest.approx(head, abs=1e-4)  # rounded to 4 places
    assert out["spans"] and all(0.0 <= s["tc_confidence"] <= 1.0 for s in out["spans"])
    for span in out["spans"]:
        assert TEXT[span["start"] : span["end"]] == span["text"]

    sentences = sentence_predictions(analyzer, manifest, settings, "val").head(40)
    reports = _span_tasks(analyzer, manifest, sentences)
    assert reports["tc"]["n_gold"] > 0 and reports["tc"]["n_pred"] == reports["tc"]["n_gold"]

    docs = manifest.table("documents").query("source == 'ptc' and split == 'val'")
    spans = manifest.table("spans").query("source == 'ptc' and split == 'val'").head(20)
    native = {d.document_id: d.document_id.split(":", 1)[-1] for d in docs.itertuples(index=False)}
    documents = {
        native[d.document_id]: Document(id=d.document_id, source="ptc", text=d.text, split="val")
        for d in docs.itertuples(index=False)
    }
    template = [(native[r.document_id], r.start, r.end, None) for r in spans.itertuples(index=False)]
    predicted = predict_tc(analyzer, documents, template)
    assert [p[:3] for p in predicted] == [t[:3] for t in template]
    assert {p[3] for p in predicted} <= set(analyzer.span_model.labels)


def test_tc_family_adds_second_opinion_to_tfidf_sentences(small, tmp_path: Path) -> None:
    from mindlens.models.analyzer import Analyzer
    from mindlens.training.release import build_release

    settings, _, _ = small
    _train(small, "tc", tmp_path)
    release = build_release(settings, tmp_path / "tc" / "best", tmp_path / "release", version="0.0.1")
    assert "val_tc_micro_f1" in release["metrics"]
    analyzer = Analyzer.load(tmp_path / "release")
    assert analyzer.sentence_model is not None and analyzer.clickbait_model is not None
    out = analyzer.analyze(TEXT, min_confidence=0.0)
    known = [s for s in out["spans"] if s["technique"] in analyzer.span_model.labels]
    assert known and all(0.0 <= s["tc_confidence"] <= 1.0 for s in known)  # the TC head's opinion
    assert out["title"]["clickbait"] == pytest.approx(
        float(analyzer.clickbait_model.predict_proba([out["title"]["text"]])[0, 0]), abs=1e-4
    )


def test_unknown_family_and_device_are_refused() -> None:
    from mindlens.training.train_config import TaggerTrainConfig

    with pytest.raises(ValueError, match="unknown model family 'gpt'"):
        TaggerTrainConfig(family="gpt")
    with pytest.raises(ValueError, match="no network to train"):
        TaggerTrainConfig(family="tfidf")
    with pytest.raises(ValueError, match="device"):
        TaggerTrainConfig(device="tpu")
    assert TaggerTrainConfig(family="tagger").family == "span"


def test_shipped_v1_serves_every_head() -> None:
    """The shipped V1 is the multitask model: fragments with TC second opinions, and the
    title scored by its own clickbait head (the bundle carries no TF-IDF clickbait model)."""
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.tagger_config import HEADS, TaggerConfig

    folder = ROOT / "models" / "v1"
    assert TaggerConfig.load(folder / "span_model").heads == list(HEADS)
    analyzer = Analyzer.load(folder)
    assert analyzer.has_tc_head and analyzer.clickbait_model is None
    out = analyzer.analyze(TEXT)
    assert out["spans"] and all(s["tc_confidence"] is not None for s in out["spans"])
    assert out["title"]["clickbait"] is not None
    probs, _ = analyzer.tag_sentences(["They are traitors."])
    assert probs.shape == (1, len(analyzer.sentence_labels)) and np.isfinite(probs).all()


def test_training_modules_import_without_mlflow_pandera_airflow() -> None:
    """What a borrowed GPU machine runs (``python -m mindlens.training``) needs none of them."""
    import subprocess
    import sys

    code = (
        "import sys; import mindlens.training.command, mindlens.training.loop, mindlens.training.run; "
        "bad = [m for m in ('mlflow', 'pandera', 'airflow', 'onnxruntime', 'papermill') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
