"""Distillation end to end on tiny encoders and a small PTC + curated + clickbait slice:
a teacher with a tokenizer of its own (whole words, unlike the student's word pieces) is
trained, writes its soft targets on the unlabelled texts through the command line, a
MiniLM-tokenised student trains on them beside its gold data, and is exported as the
usual int8 ONNX graph that tags text."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

COMMON = {
    "epochs": 1,
    "batch_size": 16,
    "max_length": 48,
    "max_train_sentences": 32,
    "max_val_sentences": 16,
    "max_clickbait_headlines": 24,
    "device": "cpu",
}


def _word_tokenizer(texts: list[str]):  # type: ignore[no-untyped-def]
    """Whole lower-cased words and punctuation (BERT's pre-tokenizer, no word pieces)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    backend = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=specials, min_frequency=1))
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tiny_tagger import tiny_backbone_folder

    from mindlens.config import Settings
    from mindlens.data.prepare import prepare_dataset
    from mindlens.data.sources.base import DataNotFoundError

    settings = Settings(state_dir=tmp_path_factory.mktemp("distil-state"))
    try:
        manifest = prepare_dataset(settings, max_documents=8, sources=["ptc", "curated", "clickbait"])
    except DataNotFoundError as err:
        pytest.skip(f"datasets unavailable: {err}")
    texts = manifest.table("sentences")["text"].tolist() + manifest.table("documents")["text"].tolist()
    teacher = tiny_backbone_folder(tmp_path_factory.mktemp("teacher-bert"), _word_tokenizer(texts))
    student = tiny_backbone_folder(tmp_path_factory.mktemp("student-bert"))  # the MiniLM tokenizer
    return settings, manifest, teacher, student


def test_soft_corpus_reads_only_unscored_texts(data) -> None:  # type: ignore[no-untyped-def]
    from mindlens.training.distill import soft_corpus

    settings, manifest, _, _ = data
    corpus = soft_corpus(manifest, settings)
    allowed = {("ptc", "unlabelled"), ("curated", "train"), ("clickbait", "train")}
    assert set(zip(corpus["source"], corpus["split"], strict=True)) == allowed
    assert set(corpus.columns) == {"document_id", "source", "split", "kind", "text", "prev", "next"}
    assert (corpus.query("source == 'clickbait'")["kind"] == "headline").all()
    sampled = soft_corpus(manifest, settings, max_per_source=5, seed=1)
    assert sampled.groupby("source").size().max() <= 5 and set(sampled["source"]) == set(corpus["source"])


def test_teacher_soft_labels_student_export(data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mindlens.data.dataset import MANIFEST
    from mindlens.models.onnx_tagger import OnnxTagger, export_onnx
    from mindlens.training import train
    from mindlens.training.command import main
    from mindlens.training.distill import SoftTargets

    settings, manifest, teacher_backbone, student_backbone = data
    manifest_path = Path(manifest.folder) / MANIFEST
    started = time.perf_counter()
    teacher = train(
        settings,
        manifest_path,
        "multitask",
        COMMON | {"backbone": teacher_backbone},
        out=tmp_path / "teacher",
        track=False,
    )
    assert teacher.tagger.tokenizer.backend_tokenizer.model.__class__.__name__ == "WordLevel"

    soft_path = tmp_path / "soft.npz"
    code = main(
        [
            "soft-labels",
            "--teacher",
            str(teacher.folder),
            "--out",
            str(soft_path),
            "--manifest",
            str(manifest_path),
            "--max-per-source",
            "40",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    soft = SoftTargets.load(soft_path)
    assert soft.meta["heads"] == ["token", "sentence", "clickbait"]
    assert soft.meta["manifest_content_hash"] == manifest.content_hash
    assert set(soft.corpus["source"]) == {"ptc", "curated", "clickbait"}

    epochs: list[dict[str, float]] = []
    distill = {"soft_targets": str(soft_path), "alpha": 0.5, "temperature": 2.0}
    student = train(
        settings,
        manifest_path,
        "multitask",
        COMMON | {"backbone": student_backbone, "distill": distill},
        out=tmp_path / "student",
        track=False,
        on_epoch=lambda epoch, metrics: epochs.append(metrics),
    )
    assert epochs and epochs[0]["train_distill_loss"] > 0  # soft batches were trained on
    assert "val_flc_f1" in student.metrics  # validation as usual (gold)
    assert student.tagger.tokenizer.backend_tokenizer.model.__class__.__name__ == "WordPiece"
    assert json.loads((student.folder / "tagger.json").read_text())["heads"] == [
        "token",
        "sentence",
        "tc",
        "clickbait",
    ]

    files = export_onnx(student.tagger, tmp_path / "onnx")
    assert files["int8"].is_file()  # the served graph: dynamic int8
    served = OnnxTagger.load(tmp_path / "onnx")
    tagged = served.tag(["They are corrupt traitors and liars."], token_threshold=0.0)
    assert tagged[0].spans and np.isfinite(tagged[0].sentence_probs).all()
    # about 45 s on an idle 2-core CPU; the bound only catches a path that labels or trains
    # on far more than the slice (the machine may be shared)
    assert time.perf_counter() - started < 180
