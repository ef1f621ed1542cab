"""ONNX export and the torch-free tagger, on a tiny random BERT with the MiniLM tokenizer
(real vocabulary and offsets, milliseconds per forward pass)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from mindlens.models.backbones import resolve_backbone
from mindlens.models.onnx_tagger import FP32, INT8, TOKENIZER, OnnxTagger, export_onnx
from mindlens.models.transformer import (
    CONFIG,
    MultiTaskTagger,
    TaggerConfig,
    TorchTagger,
    hf_windows,
)

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["loaded_language", "name_calling", "slogans", "doubt"]
TEXTS = [
    "These traitors will stop at nothing to destroy our great nation!",
    "Rain tomorrow.",
    "Café “quotes” — don't   split   oddly, Ünïcödé.",
    "",
    " ".join(["Everyone knows the corrupt elite lies to you every single day."] * 8),  # several windows
]
# int8 on a random 32-wide network: weights are quantized per channel, activations per
# batch, so logits move by a few hundredths; probabilities stay within this.
INT8_PROB_TOLERANCE = 0.1


def tiny_tagger(max_length: int = 32, stride: int = 8) -> TorchTagger:
    """A random 2-layer BERT with the MiniLM tokenizer, wrapped as a TorchTagger."""
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_backbone("minilm"))
    except (OSError, ValueError) as error:
        pytest.skip(f"MiniLM tokenizer unavailable: {error}")
    import torch

    torch.manual_seed(0)
    config = transformers.BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=len(tokenizer),
    )
    network = MultiTaskTagger.create(transformers.BertModel(config), len(LABELS)).eval()
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


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[TorchTagger, Path]:
    tagger = tiny_tagger()
    folder = tmp_path_factory.mktemp("onnx")
    export_onnx(tagger, folder)
    return tagger, folder


def test_export_writes_only_served_files(exported: tuple[TorchTagger, Path]) -> None:
    _, folder = exported
    names = {p.name for p in folder.iterdir()}
    assert {FP32, INT8, TOKENIZER, CONFIG} <= names
    assert all(name.endswith((".onnx", ".json")) for name in names), names
    assert TaggerConfig.load(folder).labels == LABELS
    assert OnnxTagger.load(folder).folder == folder
    tokenizer = json.loads((folder / TOKENIZER).read_text())
    assert tokenizer["truncation"] is None and tokenizer["padding"] is None


def test_fp32_matches_torch(exported: tuple[TorchTagger, Path]) -> None:
    tagger, folder = exported
    onnx = OnnxTagger.load(folder, "fp32", threads=1)
    # a low token threshold so a random network still yields spans to compare
    for batch_size in (1, 3, 32):
        expected = tagger.tag(TEXTS, batch_size=batch_size, token_threshold=0.45)
        got = onnx.tag(TEXTS, batch_size=batch_size, token_threshold=0.45)
        for e, g in zip(expected, got, strict=True):
            np.testing.assert_allclose(g.sentence_probs, e.sentence_probs, atol=1e-4)
            assert [(s.start, s.end, s.technique) for s in g.spans] == [
                (s.start, s.end, s.technique) for s in e.spans
            ]
            np.testing.assert_allclose(
                [s.confidence for s in g.spans], [s.confidence for s in e.spans], atol=1e-4
            )
    assert any(t.spans for t in expected)


def test_int8_runs_close_to_fp32(exported: tuple[TorchTagger, Path]) -> None:
    _, folder = exported
    fp32 = OnnxTagger.load(folder, "fp32").tag(TEXTS)
    int8 = OnnxTagger.load(folder, "int8").tag(TEXTS)
    diff = max(
        float(np.abs(a.sentence_probs - b.sentence_probs).max()) for a, b in zip(fp32, int8, strict=False)
    )
    assert diff < INT8_PROB_TOLERANCE


def test_windows_equal_hf_windows(exported: tuple[TorchTagger, Path]) -> None:
    tagger, folder = exported
    onnx = OnnxTagger.load(folder, "fp32")
    for texts in (TEXTS, TEXTS[:1], TEXTS[-1:], []):
        expected = hf_windows(tagger.tokenizer, texts, tagger.config.max_length, tagger.config.stride)
        assert onnx._windows(texts) == expected
    long_windows = [w for w in onnx._windows(TEXTS) if w["text_index"] == len(TEXTS) - 1]
    assert len(long_windows) > 2
    assert max(len(w["input_ids"]) for w in long_windows) == tagger.config.max_length


def test_module_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys; import mindlens.models.onnx_tagger; "
        "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_load_refuses_folder_without_config(exported: tuple[TorchTagger, Path], tmp_path: Path) -> None:
    _, folder = exported
    for name in (FP32, TOKENIZER):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    with pytest.raises(FileNotFoundError, match="tagger.json"):
        OnnxTagger.load(tmp_path, "fp32")
    with pytest.raises(ValueError, match="variant"):
        OnnxTagger.load(folder, "fp16")


def test_export_without_quantize_removes_stale_int8(
    exported: tuple[TorchTagger, Path], tmp_path: Path
) -> None:
    tagger, _ = exported
    (tmp_path / INT8).write_bytes(b"stale")
    paths = export_onnx(tagger, tmp_path, quantize=False)
    assert "int8" not in paths and not (tmp_path / INT8).exists()
    with pytest.raises(FileNotFoundError, match=INT8):
        OnnxTagger.load(tmp_path, "int8")


def test_benchmark_smoke(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_inference", ROOT / "benchmarks" / "bench_inference.py"
    )
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tiny_tagger().save(tmp_path / "model" / "torch")
    out = tmp_path / "result.json"
    result = bench.main(
        [
            "--model",
            str(tmp_path / "model"),
            "--texts",
            "8",
            "--batch-size",
            "4",
            "--single",
            "4",
            "--builtin",
            "--peak-size",
            "256",
            "--out",
            str(out),
        ]
    )
    assert (tmp_path / "model" / "onnx" / FP32).is_file()  # exported on first use
    assert set(result["paths"]) == {"torch", "onnx-fp32", "onnx-int8"}
    assert result["paths"]["torch"]["max_prob_diff_vs_fp32"] < 1e-4
    assert json.loads(out.read_text())["texts"] == 8
    assert 0 < result["paths"][result["best_path"]]["pct_of_peak"]


# --- the new heads (TC, clickbait), context pairs, formats ------------------------
from mindlens.models.onnx_tagger import TOLERANCE
from mindlens.models.transformer import (
    FORMAT,
    FORMAT_V1,
    HEADS,
    family_heads,
    neighbours,
    output_names,
    tc_span_logits,
)

SENTENCES = [
    "The corrupt elite lies.",
    "They are traitors, all of them!",
    "Rain tomorrow.",
    " ".join(["Everyone knows the corrupt elite lies to you every single day."] * 6),
]


def tiny_multitask(context_sentences: int = 0, heads: tuple[str, ...] = HEADS) -> TorchTagger:
    """The tiny random BERT with the given heads (all four by default)."""
    tagger = tiny_tagger()
    import torch

    torch.manual_seed(1)
    network = MultiTaskTagger.create(tagger.network.encoder, len(LABELS), heads=heads).eval()
    config = TaggerConfig(
        labels=LABELS,
        backbone="tiny-bert",
        max_length=32,
        stride=8,
        heads=list(heads),
        context_sentences=context_sentences,
    )
    return TorchTagger(network, tagger.tokenizer, config)


@pytest.fixture(scope="module", params=[0, 1], ids=["single", "context"])
def exported_multitask(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TorchTagger, Path]:
    tagger = tiny_multitask(request.param)
    folder = tmp_path_factory.mktemp("onnx-multitask")
    export_onnx(tagger, folder, quantize=False)
    return tagger, folder


def test_every_head_matches_torch(exported_multitask: tuple[TorchTagger, Path]) -> None:
    tagger, folder = exported_multitask
    onnx = OnnxTagger.load(folder, "fp32")
    assert onnx.outputs == output_names(HEADS)
    contexts = neighbours(SENTENCES)
    expected = tagger.infer(SENTENCES, contexts=contexts)
    got = onnx.infer(SENTENCES, contexts=contexts)
    assert [w["input_ids"] for w in got.windows] == [w["input_ids"] for w in expected.windows]
    for name in output_names(HEADS):
        for a, b in zip(expected.outputs[name], got.outputs[name], strict=True):
            np.testing.assert_allclose(b, a, atol=TOLERANCE, err_msg=name)
    e_tag, g_tag = tagger.decode(expected, 0.45), onnx.decode(got, 0.45)
    for e, g in zip(e_tag, g_tag, strict=True):
        assert g.clickbait == pytest.approx(e.clickbait, abs=1e-4)
        assert [(s.start, s.end, s.technique, s.tc_technique) for s in g.spans] == [
            (s.start, s.end, s.technique, s.tc_technique) for s in e.spans
        ]
        np.testing.assert_allclose(
            [s.tc_confidence for s in g.spans], [s.tc_confidence for s in e.spans], atol=1e-4
        )
    assert any(s.tc_confidence is not None for t in e_tag for s in t.spans)


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


def test_config_formats(tmp_path: Path) -> None:
    v1 = TaggerConfig(labels=LABELS, backbone="minilm")
    v1.save(tmp_path)
    saved = json.loads((tmp_path / CONFIG).read_text())
    assert saved["format"] == FORMAT_V1 and "heads" not in saved  # V1 servers can read it
    assert TaggerConfig.load(tmp_path).heads == ["token", "sentence"]
    TaggerConfig(labels=LABELS, backbone="minilm", heads=["tc", "clickbait"]).save(tmp_path)
    assert json.loads((tmp_path / CONFIG).read_text())["format"] == FORMAT
    assert TaggerConfig.load(tmp_path).heads == ["tc", "clickbait"]
    (tmp_path / CONFIG).write_text(json.dumps(saved | {"format": "mindlens.tagger/9"}))
    with pytest.raises(ValueError, match="mindlens.tagger/9"):
        TaggerConfig.load(tmp_path)
    with pytest.raises(ValueError, match="heads"):
        TaggerConfig(labels=LABELS, backbone="x", heads=["spans"])
    assert family_heads("tagger") == family_heads("span") == ["token", "sentence"]
    assert family_heads("multitask") == list(HEADS)
    with pytest.raises(ValueError, match="unknown model family 'bert'"):
        family_heads("bert")


def test_onnx_refuses_config_naming_heads_it_lacks(
    exported: tuple[TorchTagger, Path], tmp_path: Path
) -> None:
    _, folder = exported
    for name in (FP32, TOKENIZER):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    TaggerConfig(labels=LABELS, backbone="x", heads=list(HEADS)).save(tmp_path)
    with pytest.raises(ValueError, match="tc_token_logits"):
        OnnxTagger.load(tmp_path, "fp32")


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


def test_tidy_spans_snaps_joins_and_drops() -> None:
    """Fragments end on word boundaries, close pieces of one technique become one fragment
    (not across a sentence break), lone short words go."""
    from mindlens.models.transformer import FoundSpan, tidy_spans

    text = "The expats are evil, corrupt traitors. Its the end; the end of it."
    at = text.index
    pieces = [
        FoundSpan(at("expats"), at("expats") + 2, "name_calling", 0.9),  # "ex": inside a word
        FoundSpan(at("evil"), at("evil") + 4, "loaded_language", 0.8),
        FoundSpan(at("traitors"), at("traitors") + 8, "loaded_language", 0.95),  # joins "evil"
        FoundSpan(at("Its"), at("Its") + 3, "doubt", 0.9),  # too short
        FoundSpan(at("the end;"), at("the end;") + 7, "slogans", 0.7),
        FoundSpan(at("the end of"), at("the end of") + 10, "slogans", 0.6),
    ]  # ";" between
    got = {(text[s.start : s.end], s.technique, s.confidence) for s in tidy_spans(text, pieces)}
    assert got == {
        ("expats", "name_calling", 0.9),
        ("evil, corrupt traitors", "loaded_language", 0.95),
        ("the end", "slogans", 0.7),
        ("the end of", "slogans", 0.6),
    }
