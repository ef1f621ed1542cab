"""Distillation pieces on tiny models (no dataset): the soft-target file round-trips,
teacher probabilities map onto another tokenizer's tokens through characters, a
distillation step brings the student closer to the teacher, and the config and command
line carry the ``distill`` settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_tagger import LABELS, tiny_multitask

from mindlens.training.command import parser, train_options
from mindlens.training.distill import (
    SoftTargets,
    collate_soft,
    map_token_targets,
    soft_examples,
    tagger_fingerprint,
    teacher_soft_targets,
)
from mindlens.training.losses import SoftTargetLoss
from mindlens.training.train_config import DistillConfig, TaggerTrainConfig

CORPUS = pd.DataFrame(
    {
        "document_id": ["ptc:1", "ptc:1", "clickbait:7"],
        "source": ["ptc", "ptc", "clickbait"],
        "split": ["unlabelled", "unlabelled", "train"],
        "kind": ["sentence", "sentence", "headline"],
        "text": [
            "They are corrupt traitors and liars, all of them.",
            "Ünïcode — “quoted” words stay intact",
            "You won't believe what happened next",
        ],
        "prev": ["", "They are corrupt traitors and liars, all of them.", ""],
        "next": ["Ünïcode — “quoted” words stay intact", "", ""],
    }
)


def _char_tokenizer(text: str):  # type: ignore[no-untyped-def]
    """A hand-made fast tokenizer with one token per non-space character (and [CLS]/[SEP])."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *sorted(set(text) - {" "})])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex("."), behavior="isolated")]
    )
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    )


def test_offset_mapping_between_two_tokenizers_by_hand() -> None:
    """A character-level teacher and the MiniLM student: each student token gets the mean
    of its characters' teacher probabilities; special tokens get none."""
    from transformers import AutoTokenizer

    from mindlens.models.backbones import resolve_backbone

    text = "Big lies, folks!"
    teacher = _char_tokenizer(text)(text, return_offsets_mapping=True)["offset_mapping"]
    student = AutoTokenizer.from_pretrained(resolve_backbone("minilm"))(text, return_offsets_mapping=True)
    assert len(teacher) == len(text.replace(" ", "")) + 2  # one per character, plus [CLS] [SEP]
    assert [tuple(o) for o in student["offset_mapping"]] == [
        (0, 0), (0, 3), (4, 8), (8, 9), (10, 15), (15, 16), (0, 0)
    ]  # fmt: skip
    # teacher probability of a character = its position / 100 (label 0), 1 - that (label 1)
    probs = np.array([[s / 100, 1 - s / 100] if e > s else [0.9, 0.9] for s, e in teacher])
    mapped, valid = map_token_targets(np.array(student["offset_mapping"]), [(np.array(teacher), probs)])
    assert valid.tolist() == [False, True, True, True, True, True, False]
    expected = [np.mean(range(0, 3)), np.mean(range(4, 8)), 8, np.mean(range(10, 15)), 15]  # by hand
    assert mapped[valid, 0] == pytest.approx(np.array(expected) / 100)
    assert mapped[valid, 1] == pytest.approx(1 - np.array(expected) / 100)
    assert not mapped[~valid].any()


def test_offset_mapping_weights_shared_characters_and_windows() -> None:
    """A student token across two teacher tokens is weighted by the characters it shares
    with each; overlapping teacher windows count both opinions; uncovered tokens get none."""
    student = np.array([[0, 4], [4, 6], [6, 9], [0, 0]])
    window_a = (np.array([[0, 0], [0, 1], [1, 5]]), np.array([[1.0], [0.0], [0.0]]))  # [CLS] first
    window_b = (np.array([[4, 5], [5, 6]]), np.array([[0.4], [0.8]]))
    mapped, valid = map_token_targets(student, [window_a, window_b])
    assert valid.tolist() == [True, True, False, False]  # (6, 9): no teacher token; (0, 0): special
    # [0, 4): 1 char of p=0 (token 0-1) + 3 chars of p=0 (token 1-5); the [CLS] never counts
    assert mapped[0, 0] == pytest.approx(0.0)
    # [4, 6): char 4 from window a (p=0) and window b (p=0.4); char 5 from window b (0.8)
    assert mapped[1, 0] == pytest.approx((0.0 + 0.4 + 0.8) / 3)


def test_soft_targets_round_trip(tmp_path: Path) -> None:
    teacher = tiny_multitask()
    soft = teacher_soft_targets(teacher, CORPUS, tagger_fingerprint(teacher))
    path = soft.save(tmp_path / "soft.npz")
    loaded = SoftTargets.load(path)
    assert loaded.meta == soft.meta and loaded.meta["heads"] == ["token", "sentence", "clickbait"]
    pd.testing.assert_frame_equal(loaded.corpus, CORPUS)  # unicode texts and contexts intact
    for name in ("window_text", "window_bounds", "offsets", "token_probs", "sentence_probs", "clickbait"):
        assert np.array_equal(getattr(loaded, name), getattr(soft, name), equal_nan=True), name
    assert loaded.token_probs is not None and loaded.token_probs.dtype == np.float16
    assert loaded.sentence_probs is not None and loaded.sentence_probs.shape == (3, len(LABELS))
    assert loaded.clickbait is not None and np.isnan(loaded.clickbait[:2]).all()  # sentences: no score
    # the stored probabilities are the teacher's own (to float16 precision)
    tagged = teacher.tag(CORPUS["text"].tolist())
    assert loaded.sentence_probs.astype(float) == pytest.approx(
        np.stack([t.sentence_probs for t in tagged]), abs=1e-3
    )
    assert float(loaded.clickbait[2]) == pytest.approx(tagged[2].clickbait, abs=1e-3)
    with np.load(path, allow_pickle=False) as data:  # plain arrays: loads without pickle
        assert "meta" in data.files
    with pytest.raises(ValueError, match=r"\.npz"):
        soft.save(tmp_path / "soft.pkl")
    with pytest.raises(FileNotFoundError, match="soft-labels"):
        SoftTargets.load(tmp_path / "missing.npz")


def test_same_tokenisation_copies_and_mapping_agrees() -> None:
    """A student that tokenises as the teacher did reads the teacher's window as is; the
    character mapping gives the same targets on it (single windows)."""
    teacher = tiny_multitask()
    soft = teacher_soft_targets(teacher, CORPUS, tagger_fingerprint(teacher))
    copied = soft_examples(teacher, soft)
    soft.meta["tokenisation"] = "another tokenizer"
    mapped = soft_examples(teacher, soft)
    for a, b in zip(copied, mapped, strict=True):
        assert a["input_ids"] == b["input_ids"]
        assert np.array_equal(a["soft_valid"], b["soft_valid"])
        assert a["soft_token"][a["soft_valid"]] == pytest.approx(b["soft_token"][b["soft_valid"]])
    assert [np.isfinite(e["soft_clickbait"]) for e in copied] == [False, False, True]


def test_labels_the_teacher_lacks_are_masked() -> None:
    teacher = tiny_multitask()
    soft = teacher_soft_targets(teacher, CORPUS, tagger_fingerprint(teacher))
    soft.meta["labels"] = ["slogans", "loaded_language", "flag_waving", "doubt"]  # reordered, one unknown
    example = soft_examples(teacher, soft)[0]
    assert example["label_mask"].tolist() == [True, False, True, True]  # name_calling unknown
    assert example["soft_sentence"][0] == pytest.approx(float(soft.sentence_probs[0, 1]))  # by name
    assert example["soft_sentence"][1] == 0.0


def test_distillation_step_reduces_kl_to_the_teacher() -> None:
    """A few optimiser steps on the distillation loss of a toy soft batch bring the student's
    token, sentence and clickbait heads closer to a different teacher."""
    from mindlens.models.tagger_config import output_names

    teacher = tiny_multitask()
    torch.manual_seed(7)
    for p in teacher.network.parameters():  # a teacher that disagrees with the student
        p.data += 0.5 * torch.randn_like(p)
    student = tiny_multitask()
    soft = teacher_soft_targets(teacher, CORPUS, tagger_fingerprint(teacher))
    batch = collate_soft(soft_examples(student, soft), [0, 1, 2], with_types=False)
    loss = SoftTargetLoss(alpha=0.5, temperature=2.0)
    network = student.network.eval()  # no dropout: the comparison is exact
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    names = output_names(student.heads)

    def terms() -> dict[str, float]:
        with torch.no_grad():
            outputs = dict(zip(names, network(batch["input_ids"], batch["attention_mask"]), strict=True))
        return {k: float(v) for k, v in loss.terms(outputs, batch).items()}

    before = terms()
    assert set(before) == {"token", "sentence", "clickbait"} and all(v > 0 for v in before.values())
    for _ in range(10):
        outputs = dict(zip(names, network(batch["input_ids"], batch["attention_mask"]), strict=True))
        optimizer.zero_grad()
        loss(outputs, batch).backward()
        optimizer.step()
    after = terms()
    for head in before:
        assert after[head] < 0.7 * before[head], (head, before, after)


def test_kl_is_zero_for_the_teacher_itself() -> None:
    from mindlens.models.tagger_config import output_names

    teacher = tiny_multitask()
    soft = teacher_soft_targets(teacher, CORPUS, tagger_fingerprint(teacher))
    batch = collate_soft(soft_examples(teacher, soft), [0, 1, 2], with_types=False)
    with torch.no_grad():
        outputs = dict(
            zip(
                output_names(teacher.heads),
                teacher.network(batch["input_ids"], batch["attention_mask"]),
                strict=True,
            )
        )
    terms = SoftTargetLoss(0.5, 1.0).terms(outputs, batch)
    assert all(float(v) < 1e-5 for v in terms.values())  # float16 storage only


def test_distill_config_from_a_mapping_and_bad_values() -> None:
    config = TaggerTrainConfig(distill={"soft_targets": "soft.npz", "alpha": 0.3})
    assert config.distill == DistillConfig(soft_targets="soft.npz", alpha=0.3, temperature=2.0)
    assert TaggerTrainConfig(distill={"soft_targets": ""}).distill is None
    assert TaggerTrainConfig().distill is None
    with pytest.raises(ValueError, match="alpha"):
        TaggerTrainConfig(distill={"soft_targets": "x.npz", "alpha": -1})
    with pytest.raises(ValueError, match="temperature"):
        DistillConfig(soft_targets="x.npz", temperature=0)


def test_command_line_distill_options() -> None:
    args = parser().parse_args(
        "train --out OUT --distill-soft-targets soft.npz --distill-alpha 0.7 --distill-temperature 3".split()
    )
    options = train_options(args)
    assert options["distill"] == {
        "soft_targets": "soft.npz",
        "alpha": 0.7,
        "temperature": 3.0,
        "max_examples": None,
    }
    assert TaggerTrainConfig(**options).distill == DistillConfig("soft.npz", 0.7, 3.0)
    assert train_options(parser().parse_args(["train", "--out", "OUT"]))["distill"] is None
    soft = parser().parse_args("soft-labels --teacher T --out S.npz --max-per-source 50".split())
    assert (soft.teacher, soft.out, soft.max_per_source, soft.device) == (
        Path("T"),
        Path("S.npz"),
        50,
        "auto",
    )
    with pytest.raises(SystemExit):
        parser().parse_args(["soft-labels", "--out", "S.npz"])  # --teacher is required


def test_training_command_refuses_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 with the reason, before any data or model loads."""
    from mindlens.training.command import main

    assert main(["train", "--out", str(tmp_path), "--distill-soft-targets", str(tmp_path / "no.npz")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["soft-labels", "--teacher", str(tmp_path), "--out", str(tmp_path / "s.npz")]) == 2
    assert "no trained tagger folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "span", "--distill-soft-targets", "missing.npz"], "no such file"),
        (["--model", "tfidf", "--distill-soft-targets", "missing.npz"], "needs a transformer family"),
    ],
)
def test_mindlens_train_refuses_bad_distill_options(argv: list[str], message: str) -> None:
    """Refused before any data is prepared (exit 2, the reason on stderr)."""
    from typer.testing import CliRunner

    from mindlens.cli.main import app

    result = CliRunner().invoke(app, ["train", *argv])
    assert result.exit_code == 2
    assert message in result.output + (result.stderr or "")
