"""What a saved tagger is: its heads, the network's inputs and outputs, and ``tagger.json``.

A shared transformer encoder carries up to four heads, trained together:

- ``token``: for every token and technique, the probability that the token lies inside
  a fragment using that technique (independent sigmoids, so fragments of different
  techniques can overlap);
- ``sentence``: techniques of the whole sentence (mean-pooled), the second opinion;
- ``tc``: technique classification of a given span in its context (PTC's TC task). It is
  linear, ``tc(span) = mean_{t in span} W_span h_t + W_ctx pooled + b``, so the network
  only emits per-token ``tc_token_logits`` and per-window ``tc_context_logits`` and any
  span is pooled afterwards in numpy (one forward pass, exact, no extra input);
- ``clickbait``: one logit from the pooled representation (a headline's clickbait score).

Heads a model did not train are neither saved nor exported (which heads a family trains:
``mindlens.families``). With ``context_sentences=1`` the encoder reads each sentence
as the first segment of a text pair whose second segment is the previous and the next
sentence. Plain Python only: the ONNX path, the family registry and the configuration
read it without numpy or torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mindlens.families import HEADS

FORMAT_V1 = "mindlens.tagger/1"  # token + sentence heads, single sentences (V1)
FORMAT = "mindlens.tagger/2"  # any heads, optional neighbouring-sentence context
FORMATS = (FORMAT_V1, FORMAT)
CONFIG = "tagger.json"

V1_HEADS = ["token", "sentence"]
# network output names per head, in the order the network returns them
HEAD_OUTPUTS: dict[str, tuple[str, ...]] = {
    "token": ("token_logits",),
    "sentence": ("sentence_logits",),
    "tc": ("tc_token_logits", "tc_context_logits"),
    "clickbait": ("clickbait_logits",),
}
PER_TOKEN_OUTPUTS = ("token_logits", "tc_token_logits")  # [tokens, labels] per window; the rest per window


def output_names(heads: Sequence[str]) -> list[str]:
    """Network outputs of a model with these heads, in the network's order."""
    return [name for head in HEADS if head in heads for name in HEAD_OUTPUTS[head]]


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
    heads: list[str] = field(default_factory=lambda: list(V1_HEADS))
    context_sentences: int = 0  # 1: read (sentence, previous + next sentence) as a text pair
    # per-technique decoding chosen after training (``mindlens.models.decoding.Decoding``:
    # thresholds, switch_costs, sentence_weights); empty: one token_threshold for all
    decoding: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [h for h in self.heads if h not in HEADS]
        if unknown or not self.heads:
            raise ValueError(f"heads must be a non-empty subset of {HEADS}, not {self.heads}")
        self.heads = [h for h in HEADS if h in self.heads]
        if self.context_sentences not in (0, 1):
            raise ValueError(f"context_sentences must be 0 or 1, not {self.context_sentences}")

    def has(self, head: str) -> bool:
        return head in self.heads

    @property
    def is_v1(self) -> bool:
        """Expressible in the V1 format (so older servers can still read it)."""
        return self.heads == V1_HEADS and self.context_sentences == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.decoding:  # files without tuned decoding stay as older versions wrote them
            data.pop("decoding")
        if self.is_v1:  # V1's loader passes every key to the constructor: write only its keys
            for key in ("heads", "context_sentences"):
                data.pop(key)
        data["format"] = FORMAT_V1 if self.is_v1 else FORMAT
        return data

    def save(self, folder: Path) -> None:
        (Path(folder) / CONFIG).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> TaggerConfig:
        data = json.loads((Path(folder) / CONFIG).read_text())
        if data.get("format") not in FORMATS:
            raise ValueError(
                f"{folder} is not a tagger model: format {data.get('format')!r} is none of "
                f"{', '.join(FORMATS)}"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{folder / CONFIG}: unknown keys {unknown} (written by a newer MindLens?)")
        return cls(**data)


def input_names(config: TaggerConfig) -> list[str]:
    """Network inputs: segment ids only for context (text pair) models."""
    return ["input_ids", "attention_mask", *(["token_type_ids"] if config.context_sentences else [])]
