"""Tiny random taggers for the tagger tests: a 2-layer, 32-wide BERT with the MiniLM
tokenizer (real vocabulary and offsets, milliseconds per forward pass). Callers skip
first when torch or transformers are missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mindlens.models.tagger_config import HEADS, TaggerConfig

LABELS = ["loaded_language", "name_calling", "slogans", "doubt"]


def tiny_backbone_folder(folder: Path, tokenizer: Any = None) -> str:
    """A backbone folder for the training code: the tiny random BERT saved with ``tokenizer``
    (default the MiniLM one), as a hub id or local path would give it; returns its path."""
    import transformers

    from mindlens.models.backbones import resolve_backbone

    if tokenizer is None:
        tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_backbone("minilm"))
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def tiny_tagger(max_length: int = 32, stride: int = 8) -> Any:
    """A random 2-layer BERT with the MiniLM tokenizer, wrapped as a TorchTagger."""
    import torch
    import transformers

    from mindlens.models.backbones import resolve_backbone
    from mindlens.models.network import MultiTaskTagger
    from mindlens.models.torch_tagger import TorchTagger

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_backbone("minilm"))
    except (OSError, ValueError) as error:
        pytest.skip(f"MiniLM tokenizer unavailable: {error}")
    torch.manual_seed(0)
    config = transformers.BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=len(tokenizer),
    )
    network = MultiTaskTagger(transformers.BertModel(config), len(LABELS)).eval()
    return TorchTagger(
        network,
        tokenizer,
        TaggerConfig(
            labels=LABELS,
            backbone="tiny-bert",
            max_length=max_length,
            stride=stride,
            token_threshold=0.5,
            sentence_threshold=0.5,
        ),
    )


def tiny_multitask(context_sentences: int = 0, heads: tuple[str, ...] = HEADS) -> Any:
    """The tiny random BERT with the given heads (all four by default)."""
    import torch

    from mindlens.models.network import MultiTaskTagger
    from mindlens.models.torch_tagger import TorchTagger

    tagger = tiny_tagger()
    torch.manual_seed(1)
    network = MultiTaskTagger(tagger.network.encoder, len(LABELS), heads=heads).eval()
    config = TaggerConfig(
        labels=LABELS,
        backbone="tiny-bert",
        max_length=32,
        stride=8,
        heads=list(heads),
        context_sentences=context_sentences,
    )
    return TorchTagger(network, tagger.tokenizer, config)
