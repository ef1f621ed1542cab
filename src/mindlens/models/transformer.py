"""A shared transformer encoder with two heads, trained together:

- a token head: for every token and technique, the probability that the token lies
  inside a fragment using that technique (independent sigmoids, so fragments of
  different techniques can overlap);
- a sentence head: techniques of the whole sentence (mean-pooled), the second opinion.

Texts longer than the encoder's window are cut into overlapping windows whose
predictions are merged back. The decoding from probabilities to character spans is
shared by the PyTorch and the ONNX paths (``decode_spans``), so both give the same spans.
Folder format: ``encoder/`` (Hugging Face weights + tokenizer), ``heads.safetensors``,
``tagger.json`` (labels, max length, thresholds).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "mindlens.tagger/1"
CONFIG = "tagger.json"


@dataclass
class TaggerConfig:
    labels: list[str]
    backbone: str
    max_length: int = 128
    stride: int = 32
    token_threshold: float = 0.5
    sentence_threshold: float = 0.5
    format: str = FORMAT
    metrics: dict[str, float] = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        (Path(folder) / CONFIG).write_text(json.dumps(asdict(self), indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> "TaggerConfig":
        data = json.loads((Path(folder) / CONFIG).read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"{folder} is not a {FORMAT} model")
        return cls(**data)


@dataclass(frozen=True)
class FoundSpan:
    start: int
    end: int
    technique: str
    confidence: float


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def decode_spans(offsets: Sequence[tuple[int, int]], token_probs: np.ndarray, labels: Sequence[str],
                 threshold: float, base: int = 0) -> list[FoundSpan]:
    """Maximal runs of content tokens at or above the threshold, per technique, as
    character spans (``base`` is added to every offset). Special and padding tokens
    have empty offsets and break runs."""
    spans: list[FoundSpan] = []
    for j, label in enumerate(labels):
        run: list[int] = []
        for i, (start, end) in enumerate(offsets):
            inside = end > start and token_probs[i, j] >= threshold
            if inside:
                run.append(i)
            if run and (not inside or i == len(offsets) - 1):
                spans.append(FoundSpan(base + offsets[run[0]][0], base + offsets[run[-1]][1], label,
                                       float(token_probs[run, j].mean())))
                run = []
    return spans


def merge_spans(spans: Sequence[FoundSpan]) -> list[FoundSpan]:
    """Join overlapping spans of one technique (from overlapping windows); keep the best confidence."""
    merged: list[FoundSpan] = []
    for span in sorted(spans, key=lambda s: (s.technique, s.start, s.end)):
        last = merged[-1] if merged else None
        if last and last.technique == span.technique and span.start <= last.end:
            merged[-1] = FoundSpan(last.start, max(last.end, span.end), span.technique,
                                   max(last.confidence, span.confidence))
        else:
            merged.append(span)
    return sorted(merged, key=lambda s: (s.start, s.end, s.technique))


@dataclass
class TaggedText:
    """What a tagger says about one text (a sentence, usually)."""

    sentence_probs: np.ndarray  # [labels]
    spans: list[FoundSpan]


class TaggerBase:
    """Shared inference: tokenise into windows, run the network, decode and merge.
    Subclasses provide ``_windows`` (tokenisation) and ``_run`` (the network)."""

    config: TaggerConfig

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    def _windows(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def infer(self, texts: Sequence[str], *, batch_size: int = 32) -> "Inference":
        """Run the network once over every window (batched by length: less padding)."""
        windows = self._windows(texts)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]["input_ids"]))
        token_probs: list[np.ndarray] = [np.zeros(0)] * len(windows)
        sentence_probs: list[np.ndarray] = [np.zeros(0)] * len(windows)
        for begin in range(0, len(order), batch_size):
            batch = [windows[i] for i in order[begin:begin + batch_size]]
            width = max(len(w["input_ids"]) for w in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, w in enumerate(batch):
                ids[row, :len(w["input_ids"])] = w["input_ids"]
                mask[row, :len(w["input_ids"])] = 1
            tok, sent = self._run(ids, mask)
            for row, index in enumerate(order[begin:begin + batch_size]):
                token_probs[index] = sigmoid(tok[row, :len(windows[index]["input_ids"])])
                sentence_probs[index] = sigmoid(sent[row])
        return Inference(len(texts), windows, token_probs, sentence_probs)

    def decode(self, inference: "Inference", token_threshold: float | None = None) -> list[TaggedText]:
        """Spans and sentence scores from network outputs (cheap: thresholds can be tuned
        without running the network again)."""
        threshold = self.config.token_threshold if token_threshold is None else token_threshold
        results = [TaggedText(np.zeros(len(self.labels)), []) for _ in range(inference.n_texts)]
        found: dict[int, list[FoundSpan]] = {i: [] for i in range(inference.n_texts)}
        for window, tok, sent in zip(inference.windows, inference.token_probs, inference.sentence_probs):
            i = window["text_index"]
            results[i].sentence_probs = np.maximum(results[i].sentence_probs, sent)
            found[i] += decode_spans(window["offsets"], tok, self.labels, threshold)
        for i, spans in found.items():
            results[i].spans = merge_spans(spans)
        return results

    def tag(self, texts: Sequence[str], *, batch_size: int = 32,
            token_threshold: float | None = None) -> list[TaggedText]:
        """Tag many texts: sentence probabilities and merged fragments for each."""
        return self.decode(self.infer(texts, batch_size=batch_size), token_threshold)


@dataclass
class Inference:
    """Raw network outputs per window, kept so decoding can be repeated cheaply."""

    n_texts: int
    windows: list[dict[str, Any]]
    token_probs: list[np.ndarray]
    sentence_probs: list[np.ndarray]


def hf_windows(tokenizer: Any, texts: Sequence[str], max_length: int, stride: int) -> list[dict[str, Any]]:
    """Overlapping windows with character offsets from a Hugging Face fast tokenizer."""
    if not texts:
        return []
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True)
    windows = []
    for i, ids in enumerate(enc["input_ids"]):
        special = set(np.flatnonzero(enc.special_tokens_mask[i])) if "special_tokens_mask" in enc else set()
        offsets = [(0, 0) if k in special else tuple(o) for k, o in enumerate(enc["offset_mapping"][i])]
        windows.append({"text_index": int(enc["overflow_to_sample_mapping"][i]), "input_ids": ids,
                        "offsets": offsets})
    return windows


class TorchTagger(TaggerBase):
    """The PyTorch model (training, export, and the baseline in benchmarks)."""

    def __init__(self, network: Any, tokenizer: Any, config: TaggerConfig) -> None:
        self.network, self.tokenizer, self.config = network, tokenizer, config

    def _windows(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        return hf_windows(self.tokenizer, texts, self.config.max_length, self.config.stride)

    def _run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        self.network.eval()
        with torch.inference_mode():
            tok, sent = self.network(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return tok.float().numpy(), sent.float().numpy()

    def save(self, folder: Path) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        (folder / "encoder").mkdir(parents=True, exist_ok=True)
        self.network.encoder.save_pretrained(folder / "encoder")
        self.tokenizer.save_pretrained(folder / "encoder")
        heads = {f"token_head.{k}": v for k, v in self.network.token_head.state_dict().items()}
        heads |= {f"sentence_head.{k}": v for k, v in self.network.sentence_head.state_dict().items()}
        save_file({k: v.contiguous() for k, v in heads.items()}, str(folder / "heads.safetensors"))
        self.config.save(folder)
        return folder

    @classmethod
    def load(cls, folder: Path) -> "TorchTagger":
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        config = TaggerConfig.load(folder)
        network = MultiTaskTagger.create(AutoModel.from_pretrained(folder / "encoder"), len(config.labels))
        heads = load_file(str(folder / "heads.safetensors"))
        network.token_head.load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items()
                                            if k.startswith("token_head.")})
        network.sentence_head.load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items()
                                               if k.startswith("sentence_head.")})
        return cls(network.eval(), AutoTokenizer.from_pretrained(folder / "encoder"), config)

    @classmethod
    def from_backbone(cls, backbone: str, labels: Sequence[str], **config: Any) -> "TorchTagger":
        """A new tagger: pretrained encoder from ``backbone`` (alias, path or hub id), fresh heads."""
        from transformers import AutoModel, AutoTokenizer

        from mindlens.models.backbones import resolve_backbone

        source = resolve_backbone(backbone)
        encoder = AutoModel.from_pretrained(source)
        tokenizer = AutoTokenizer.from_pretrained(source)
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(f"{backbone}: a fast tokenizer is needed for character offsets")
        return cls(MultiTaskTagger.create(encoder, len(labels)), tokenizer,
                   TaggerConfig(labels=list(labels), backbone=backbone, **config))


def _module():  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class _MultiTaskTagger(nn.Module):
        def __init__(self, encoder: Any, n_labels: int, dropout: float = 0.1) -> None:
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.dropout = nn.Dropout(dropout)
            self.token_head = nn.Linear(hidden, n_labels)
            self.sentence_head = nn.Linear(hidden, n_labels)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):  # type: ignore[no-untyped-def]
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            token_logits = self.token_head(self.dropout(hidden))
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            return token_logits, self.sentence_head(self.dropout(pooled))

    return _MultiTaskTagger


class MultiTaskTagger:
    """Factory for the torch module (torch is imported only when a model is built)."""

    @staticmethod
    def create(encoder: Any, n_labels: int, dropout: float = 0.1) -> Any:
        return _module()(encoder, n_labels, dropout)
