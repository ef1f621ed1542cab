"""The torch network: a Hugging Face encoder with the heads a family trains.

Only training, the ONNX export and the benchmark's torch path import this module (it
imports torch); serving runs the exported graph. The network returns one tensor per
output of ``tagger_config.output_names(heads)``, in that order, which is also the ONNX
graph's output order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from mindlens.models.tagger_config import HEADS, V1_HEADS

# head modules per head, the names used in heads.safetensors
HEAD_MODULES: dict[str, tuple[str, ...]] = {
    "token": ("token_head",),
    "sentence": ("sentence_head",),
    "tc": ("tc_span_head", "tc_context_head"),
    "clickbait": ("clickbait_head",),
}


class MultiTaskTagger(nn.Module):
    """Encoder + linear heads over token states (token, TC span part) and the mask-weighted
    mean of them (sentence, TC context part, clickbait); dropout on both."""

    def __init__(
        self, encoder: Any, n_labels: int, heads: Sequence[str] = tuple(V1_HEADS), dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = [h for h in HEADS if h in heads]
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        if "token" in self.heads:
            self.token_head = nn.Linear(hidden, n_labels)
        if "sentence" in self.heads:
            self.sentence_head = nn.Linear(hidden, n_labels)
        if "tc" in self.heads:  # bias once, in the span part: mean(W h_t + b) = W mean(h) + b
            self.tc_span_head = nn.Linear(hidden, n_labels)
            self.tc_context_head = nn.Linear(hidden, n_labels, bias=False)
        if "clickbait" in self.heads:
            self.clickbait_head = nn.Linear(hidden, 1)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = self.dropout((hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0))
        hidden = self.dropout(hidden)
        out = []
        if "token" in self.heads:
            out.append(self.token_head(hidden))
        if "sentence" in self.heads:
            out.append(self.sentence_head(pooled))
        if "tc" in self.heads:
            out += [self.tc_span_head(hidden), self.tc_context_head(pooled)]
        if "clickbait" in self.heads:
            out.append(self.clickbait_head(pooled))
        return tuple(out)
