"""Distillation: a teacher's soft targets on unlabelled text, and the student's examples.

A big teacher (MPNet-base, trained by ``python -m mindlens.training train --backbone
mpnet``) labels texts nobody labelled (``soft_corpus``: PTC's official test articles,
which have no public labels, the curated training texts and the clickbait training
headlines) with its token, sentence and clickbait probabilities. The student (MiniLM,
the served graph) learns from them beside its gold data (``DistillConfig`` in the train
config), so serving stays one small int8 graph.

The soft-target file (``SoftTargets``, ``.npz``, float16, no pickles) keeps every
teacher window's token offsets with its probabilities, plus the fingerprint of the
teacher's tokenisation. A student that tokenises the same way reads the teacher's first
window as is; any other student (MiniLM's vocabulary is not MPNet's) gets, for each of
its tokens, the teacher's probabilities averaged over the teacher tokens that share its
characters, weighted by the characters shared (``map_token_targets``).

Only texts are read from the scored-never corpus: never a label, never a split that is
scored (``val``, ``test``) or early-stopped on, so the protocol's numbers stay honest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.models.decoding import sigmoid
from mindlens.models.tagger_config import TaggerConfig

if TYPE_CHECKING:
    from mindlens.models.tagger import TaggerBase
    from mindlens.models.torch_tagger import TorchTagger
    from mindlens.training.train_config import DistillConfig

log = logging.getLogger(__name__)

FORMAT = "mindlens.soft-targets/1"
# span-labelled sources whose texts a teacher labels, and the only splits taken from them:
# PTC's official test articles (``unlabelled``: no public labels) and the curated training
# part; never val/test (scored or early-stopped on)
SENTENCE_CORPUS: dict[str, tuple[str, ...]] = {"ptc": ("unlabelled",), "curated": ("train",)}
HEADLINE_SPLITS = ("train",)  # clickbait headlines: the training part only
KINDS = ("sentence", "headline")
SOFT_HEADS = ("token", "sentence", "clickbait")  # TC learns from gold spans only


# --- the corpus -------------------------------------------------------------------------
def soft_corpus(
    manifest: Manifest,
    settings: Settings,
    *,
    max_per_source: int | None = None,
    seed: int = 13,
) -> pd.DataFrame:
    """The texts a teacher labels: one row per sentence (with its previous and next
    sentence, for context models) or headline; ``document_id, source, split, kind, text,
    prev, next``. Reads only texts, never labels; a seeded sample of ``max_per_source``
    texts per source when given."""
    sentences = manifest.table("sentences")
    parts = []
    for source, splits in SENTENCE_CORPUS.items():
        rows = sentences[(sentences["source"] == source) & sentences["split"].isin(splits)]
        rows = rows.sort_values(["document_id", "sentence_index"])
        text = dict(
            zip(zip(rows["document_id"], rows["sentence_index"], strict=False), rows["text"], strict=False)
        )
        keys = list(zip(rows["document_id"], rows["sentence_index"], strict=False))
        parts.append(
            pd.DataFrame(
                {
                    "document_id": rows["document_id"].to_numpy(),
                    "source": source,
                    "split": rows["split"].to_numpy(),
                    "kind": "sentence",
                    "text": rows["text"].to_numpy(),
                    "prev": [text.get((d, i - 1), "") for d, i in keys],
                    "next": [text.get((d, i + 1), "") for d, i in keys],
                }
            )
        )
    documents = manifest.table("documents")
    clickbait = [s for s in settings.train.baseline.clickbait_sources if s in manifest.sources]
    heads = documents[documents["source"].isin(clickbait) & documents["split"].isin(HEADLINE_SPLITS)]
    parts.append(
        pd.DataFrame(
            {
                "document_id": heads["document_id"].to_numpy(),
                "source": heads["source"].to_numpy(),
                "split": heads["split"].to_numpy(),
                "kind": "headline",
                "text": heads["text"].to_numpy(),
                "prev": "",
                "next": "",
            }
        )
    )
    corpus = pd.concat(parts, ignore_index=True)
    corpus = corpus[corpus["text"].str.strip().astype(bool)]
    if max_per_source:
        keep = [
            rows.sample(n=min(len(rows), max_per_source), random_state=seed).index
            for _, rows in corpus.groupby("source", sort=True)
        ]
        corpus = corpus.loc[sorted(i for index in keep for i in index)]
    return corpus.reset_index(drop=True)


# --- the file -----------------------------------------------------------------------------
def tokenisation_fingerprint(tokenizer_json: str, config: TaggerConfig) -> str:
    """What decides a model's windows: its tokenizer (the Rust tokenizer's JSON, without
    padding or truncation presets), window length, stride and context reading."""
    data = json.loads(tokenizer_json)
    data.pop("padding", None)
    data.pop("truncation", None)
    key = (
        json.dumps(data, sort_keys=True) + f"|{config.max_length}|{config.stride}|{config.context_sentences}"
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def tagger_fingerprint(tagger: TorchTagger) -> str:
    return tokenisation_fingerprint(tagger.tokenizer.backend_tokenizer.to_str(), tagger.config)


def _pack(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 byte array and their bounds (npz without pickles)."""
    encoded = [s.encode("utf-8") for s in strings]
    bounds = np.zeros(len(encoded) + 1, dtype=np.int64)
    bounds[1:] = np.cumsum([len(b) for b in encoded])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), bounds


def _unpack(data: np.ndarray, bounds: np.ndarray) -> list[str]:
    raw = data.tobytes()
    return [raw[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(len(bounds) - 1)]


STRING_COLUMNS = ("document_id", "source", "split", "kind", "text", "prev", "next")
ARRAYS = ("window_text", "window_bounds", "offsets", "token_probs", "sentence_probs", "clickbait")


@dataclass
class SoftTargets:
    """A teacher's probabilities on a corpus (``corpus``: the rows of ``soft_corpus``).

    Token targets per teacher window: ``window_text[w]`` is the corpus row of window
    ``w``, its tokens are ``window_bounds[w]:window_bounds[w + 1]`` of ``offsets``
    (characters into the row's text; special and context tokens are empty) and
    ``token_probs``. ``sentence_probs`` [rows, labels] and ``clickbait`` [rows] (NaN
    for sentences) are per row, the maximum over its windows as decoding takes them.
    Heads the teacher lacks have no arrays."""

    meta: dict[str, Any]
    corpus: pd.DataFrame
    window_text: np.ndarray | None = None
    window_bounds: np.ndarray | None = None
    offsets: np.ndarray | None = None
    token_probs: np.ndarray | None = None
    sentence_probs: np.ndarray | None = None
    clickbait: np.ndarray | None = None
    _windows: dict[int, list[int]] | None = field(default=None, repr=False)

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    @property
    def fingerprint(self) -> str:
        return str(self.meta["tokenisation"])

    def windows_of(self, row: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(offsets, token probabilities) of each teacher window of a corpus row."""
        if self.window_text is None or self.window_bounds is None:
            return []
        if self._windows is None:
            self._windows = {}
            for w, i in enumerate(self.window_text.tolist()):
                self._windows.setdefault(i, []).append(w)
        assert self.offsets is not None and self.token_probs is not None
        return [
            (
                self.offsets[self.window_bounds[w] : self.window_bounds[w + 1]],
                self.token_probs[self.window_bounds[w] : self.window_bounds[w + 1]],
            )
            for w in self._windows.get(row, [])
        ]

    def save(self, path: Path) -> Path:
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"soft targets are written as .npz, not {path.name}")
        arrays: dict[str, np.ndarray] = {
            "meta": np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8)
        }
        for column in STRING_COLUMNS:
            arrays[f"{column}_bytes"], arrays[f"{column}_bounds"] = _pack(
                self.corpus[column].astype(str).tolist()
            )
        for name in ARRAYS:
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
        return path

    @classmethod
    def load(cls, path: Path) -> SoftTargets:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no soft-target file at {path} (write one with `soft-labels`)")
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            if meta.get("format") != FORMAT:
                raise ValueError(
                    f"{path} is not a soft-target file: format {meta.get('format')!r}, not {FORMAT}"
                )
            corpus = pd.DataFrame(
                {c: _unpack(data[f"{c}_bytes"], data[f"{c}_bounds"]) for c in STRING_COLUMNS}
            )
            arrays = {name: data[name] for name in ARRAYS if name in data.files}
        return cls(meta, corpus, **arrays)


# --- the teacher ----------------------------------------------------------------------------
def teacher_soft_targets(
    teacher: TaggerBase, corpus: pd.DataFrame, fingerprint: str, *, batch_size: int = 64
) -> SoftTargets:
    """The teacher's probabilities on every corpus row (one network pass; any tagger)."""
    heads = [h for h in SOFT_HEADS if teacher.config.has(h)]
    if not heads:
        raise ValueError(f"the teacher has none of the heads distillation uses ({', '.join(SOFT_HEADS)})")
    texts = corpus["text"].tolist()
    contexts = (
        list(zip(corpus["prev"], corpus["next"], strict=True)) if teacher.config.context_sentences else None
    )
    inference = teacher.infer(texts, batch_size=batch_size, contexts=contexts)
    windows, outputs = inference.windows, inference.outputs
    soft = SoftTargets(
        meta={
            "format": FORMAT,
            "labels": list(teacher.labels),
            "heads": heads,
            "tokenisation": fingerprint,
            "teacher_backbone": teacher.config.backbone,
            "teacher_metrics": {k: v for k, v in teacher.config.metrics.items() if k.startswith("val_")},
            "rows": corpus.groupby(["source", "kind"]).size().rename("n").reset_index().to_dict("records"),
        },
        corpus=corpus.reset_index(drop=True),
    )
    text_of = np.array([w["text_index"] for w in windows], dtype=np.int64)
    if "token" in heads:
        lengths = [len(w["offsets"]) for w in windows]
        soft.window_text = text_of.astype(np.int32)
        soft.window_bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        soft.offsets = np.concatenate(
            [np.asarray(w["offsets"], dtype=np.int32).reshape(-1, 2) for w in windows]
        )
        soft.token_probs = np.concatenate([sigmoid(x) for x in outputs["token_logits"]]).astype(np.float16)
    if "sentence" in heads:
        per_window = inference.sentence_probs()
        assert per_window is not None
        probs = np.zeros((len(corpus), len(teacher.labels)))
        np.maximum.at(probs, text_of, per_window)
        soft.sentence_probs = probs.astype(np.float16)
    if "clickbait" in heads:
        scores = np.zeros(len(corpus))
        np.maximum.at(scores, text_of, sigmoid(np.concatenate(outputs["clickbait_logits"])))
        scores[corpus["kind"].to_numpy() != "headline"] = np.nan  # a title's score, not a sentence's
        soft.clickbait = scores.astype(np.float16)
    return soft


def write_soft_targets(
    teacher_folder: Path,
    manifest: Manifest,
    settings: Settings,
    out: Path,
    *,
    device: str = "auto",
    batch_size: int = 64,
    max_per_source: int | None = None,
    seed: int = 13,
) -> SoftTargets:
    """Load a trained teacher (``OUT/best`` of training, any backbone), label the
    corpus and write the soft-target file."""
    from mindlens.models.torch_tagger import TorchTagger
    from mindlens.training.loop import resolve_device

    teacher = TorchTagger.load(teacher_folder)
    teacher.network.to(resolve_device(device))
    corpus = soft_corpus(manifest, settings, max_per_source=max_per_source, seed=seed)
    if corpus.empty:
        raise ValueError(
            "no unlabelled texts to label: the dataset has no PTC test articles, curated "
            "training texts or clickbait training headlines"
        )
    soft = teacher_soft_targets(teacher, corpus, tagger_fingerprint(teacher), batch_size=batch_size)
    soft.meta["manifest_content_hash"] = manifest.content_hash
    soft.save(out)
    log.info("soft targets of %s on %d texts written to %s", teacher_folder, len(corpus), out)
    return soft


# --- the student ----------------------------------------------------------------------------
def map_token_targets(
    student_offsets: np.ndarray, windows: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Teacher token probabilities on the student's tokens, through characters: each
    student token gets the average of the probabilities of the teacher tokens (of every
    teacher window) sharing characters with it, weighted by the characters shared.
    Returns [student tokens, labels] probabilities and which student tokens got any
    (empty tokens, special or context ones, and characters no teacher token covers get none)."""
    student = np.asarray(student_offsets, dtype=np.int64).reshape(-1, 2)
    n_labels = windows[0][1].shape[1] if windows else 0
    weighted = np.zeros((len(student), n_labels))
    weight = np.zeros(len(student))
    ss, se = student[:, 0:1], student[:, 1:2]
    for offsets, probs in windows:
        teacher = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
        ts, te = teacher[None, :, 0], teacher[None, :, 1]
        shared = np.clip(np.minimum(se, te) - np.maximum(ss, ts), 0, None).astype(np.float64)  # [s, t]
        shared[:, (te <= ts)[0]] = 0.0
        weighted += shared @ np.asarray(probs, dtype=np.float64)
        weight += shared.sum(axis=1)
    valid = (weight > 0) & (student[:, 1] > student[:, 0])
    targets = np.zeros_like(weighted)
    targets[valid] = weighted[valid] / weight[valid, None]
    return targets.astype(np.float32), valid


def soft_examples(
    student: TorchTagger, soft: SoftTargets, *, max_examples: int | None = None, seed: int = 13
) -> list[dict[str, Any]]:
    """Training examples (``kind: soft``) from a soft-target file, in the student's own
    windows and label order: its first window of each text (as gold examples are), token
    targets copied when it tokenises as the teacher did, else mapped through characters;
    label columns the teacher lacks are masked."""
    from mindlens.training.examples import first_windows

    corpus = soft.corpus
    rows = list(range(len(corpus)))
    if max_examples and len(rows) > max_examples:
        rows = sorted(random.Random(seed).sample(rows, max_examples))
    teacher_labels = {label: j for j, label in enumerate(soft.labels)}
    columns = np.array([teacher_labels.get(label, -1) for label in student.labels])
    label_mask = columns >= 0
    if not label_mask.any() and (soft.token_probs is not None or soft.sentence_probs is not None):
        log.warning("the teacher knows none of the student's techniques: only clickbait is distilled")
    texts = [corpus["text"][i] for i in rows]
    contexts = (
        [(corpus["prev"][i], corpus["next"][i]) for i in rows] if student.config.context_sentences else None
    )
    same = tagger_fingerprint(student) == soft.fingerprint
    log.info(
        "distillation: %d soft texts, tokenisation %s the teacher's",
        len(rows),
        "the same as" if same else "mapped through characters from",
    )

    def pick(probs: np.ndarray) -> np.ndarray:
        out = np.zeros((len(probs), len(columns)), dtype=np.float32)
        out[:, label_mask] = probs[:, columns[label_mask]]
        return out

    examples = []
    for row, window in zip(rows, first_windows(student, texts, contexts), strict=True):
        offsets = np.asarray(window["offsets"], dtype=np.int64).reshape(-1, 2)
        example: dict[str, Any] = {
            "kind": "soft",
            "input_ids": window["input_ids"],
            "type_ids": window.get("type_ids"),
            "label_mask": label_mask,
            "soft_token": None,
            "soft_sentence": None,
            "soft_clickbait": float("nan"),
        }
        teacher_windows = soft.windows_of(row)
        if teacher_windows:
            first_offsets, first_probs = teacher_windows[0]
            if same and np.array_equal(first_offsets, offsets):
                probs = first_probs.astype(np.float32)
                valid = offsets[:, 1] > offsets[:, 0]
            else:
                probs, valid = map_token_targets(offsets, teacher_windows)
            example["soft_token"], example["soft_valid"] = pick(probs), valid
        if soft.sentence_probs is not None:
            example["soft_sentence"] = pick(soft.sentence_probs[row : row + 1].astype(np.float32))[0]
        if soft.clickbait is not None:
            example["soft_clickbait"] = float(soft.clickbait[row])
        examples.append(example)
    return examples


def load_soft_examples(student: TorchTagger, config: DistillConfig, seed: int) -> list[dict[str, Any]]:
    """The soft examples a train config's ``distill`` asks for."""
    soft = SoftTargets.load(Path(config.soft_targets))
    return soft_examples(student, soft, max_examples=config.max_examples, seed=seed)


def collate_soft(examples: list[dict[str, Any]], ids: list[int], with_types: bool) -> dict[str, Any]:
    """Padded tensors of a batch of soft examples: inputs, the targets each example has and
    their masks (``soft_token_mask`` [batch, tokens], ``soft_sentence_mask`` and
    ``soft_clickbait_mask`` [batch], ``soft_label_mask`` [labels])."""
    import torch

    from mindlens.models.windows import pad_windows

    chosen = [examples[i] for i in ids]
    batch: dict[str, Any] = {
        name: torch.from_numpy(values) for name, values in pad_windows(chosen, with_types).items()
    }
    rows, width = batch["input_ids"].shape
    n_labels = len(chosen[0]["label_mask"])
    batch["soft_label_mask"] = torch.from_numpy(np.asarray(chosen[0]["label_mask"], dtype=bool))
    batch["soft_token"] = torch.zeros((rows, width, n_labels))
    batch["soft_token_mask"] = torch.zeros((rows, width), dtype=torch.bool)
    batch["soft_sentence"] = torch.zeros((rows, n_labels))
    batch["soft_sentence_mask"] = torch.zeros(rows, dtype=torch.bool)
    batch["soft_clickbait"] = torch.zeros(rows)
    batch["soft_clickbait_mask"] = torch.zeros(rows, dtype=torch.bool)
    for row, ex in enumerate(chosen):
        n = len(ex["input_ids"])
        if ex["soft_token"] is not None:
            batch["soft_token"][row, :n] = torch.from_numpy(ex["soft_token"])
            batch["soft_token_mask"][row, :n] = torch.from_numpy(ex["soft_valid"])
        if ex["soft_sentence"] is not None:
            batch["soft_sentence"][row] = torch.from_numpy(ex["soft_sentence"])
            batch["soft_sentence_mask"][row] = True
        if np.isfinite(ex["soft_clickbait"]):
            batch["soft_clickbait"][row] = ex["soft_clickbait"]
            batch["soft_clickbait_mask"][row] = True
    return batch
