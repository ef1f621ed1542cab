"""The PyTorch tagger on a tiny random BERT: TC pooling in numpy equals the head on the
span's mean hidden state, context pairs never yield spans in the context, and save/load
keeps only the trained heads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_tagger import LABELS, tiny_multitask

from mindlens.models.decoding import tc_span_logits
from mindlens.models.torch_tagger import TorchTagger

SENTENCES = [
    "The corrupt elite lies.",
    "They are traitors, all of them!",
    "Rain tomorrow.",
    " ".join(["Everyone knows the corrupt elite lies to you every single day."] * 6),
]


def test_tc_pooling_equals_head_on_mean_hidden_state() -> None:
    """mean_t(W_span h_t) + W_ctx pooled + b, pooled in numpy, is the linear head applied
    to the span's mean hidden state: the network need not see the span."""
    import torch

    tagger = tiny_multitask()
    text, (start, end) = SENTENCES[1], (9, 17)  # "traitors"
    inference = tagger.infer([text])
    window = inference.windows[0]
    got = tc_span_logits(
        window["offsets"],
        inference.outputs["tc_token_logits"][0],
        inference.outputs["tc_context_logits"][0],
        start,
        end,
    )
    network = tagger.network
    ids = torch.tensor([window["input_ids"]])
    with torch.inference_mode():
        hidden = network.encoder(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
        tokens = [k for k, (s, e) in enumerate(window["offsets"]) if e > s and s < end and start < e]
        direct = network.tc_span_head(hidden[tokens].mean(dim=0)) + network.tc_context_head(
            hidden.mean(dim=0)
        )
    np.testing.assert_allclose(got, direct.numpy(), atol=1e-5)
    probs = tagger.classify_spans([text], [[(start, end)]])[0][0]
    np.testing.assert_allclose(probs, np.exp(direct.numpy()) / np.exp(direct.numpy()).sum(), atol=1e-5)
    assert tagger.classify_items([(text, start, end), ("", 0, 0)]).shape == (2, len(LABELS))


def test_pair_context_never_yields_spans_in_the_context() -> None:
    tagger = tiny_multitask(context_sentences=1, heads=("token", "sentence"))
    long_context = ("A very long previous sentence " * 20, "and an equally long next sentence " * 20)
    texts = ["Short.", SENTENCES[3]]
    windows = tagger._windows(texts, [long_context, long_context])
    for window in windows:
        assert len(window["input_ids"]) <= tagger.config.max_length
        assert 1 in window["type_ids"]  # the context is there ...
        for (start, end), type_id in zip(window["offsets"], window["type_ids"], strict=False):
            assert type_id == 0 or end == start  # ... but none of its tokens can become a span
    tagged = tagger.tag(
        texts, token_threshold=0.0, contexts=[long_context, long_context]
    )  # every token "inside"
    for text, result in zip(texts, tagged, strict=False):
        assert result.spans and all(0 <= s.start < s.end <= len(text) for s in result.spans)
        assert {(s.start, s.end) for s in result.spans} == {(0, len(text))}


def test_torch_save_load_keeps_only_trained_heads(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    tagger = tiny_multitask(heads=("tc", "clickbait"))
    tagger.save(tmp_path)
    assert {k.split(".")[0] for k in load_file(str(tmp_path / "heads.safetensors"))} == {
        "tc_span_head",
        "tc_context_head",
        "clickbait_head",
    }
    loaded = TorchTagger.load(tmp_path)
    assert loaded.heads == ["tc", "clickbait"] and not hasattr(loaded.network, "token_head")
    a, b = tagger.tag(SENTENCES[:2]), loaded.tag(SENTENCES[:2])
    assert [x.clickbait for x in a] == pytest.approx([x.clickbait for x in b], abs=1e-6)
