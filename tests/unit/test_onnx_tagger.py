"""ONNX export and the torch-free tagger, on a tiny random BERT with the MiniLM tokenizer
(real vocabulary and offsets, milliseconds per forward pass): the served graph gives
what the torch network gives, head by head."""

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
pytest.importorskip("transformers")

from tiny_tagger import LABELS, tiny_multitask, tiny_tagger

from mindlens.models.onnx_tagger import FP32, INT8, TOKENIZER, TOLERANCE, OnnxTagger, export_onnx
from mindlens.models.tagger_config import CONFIG, HEADS, TaggerConfig, output_names
from mindlens.models.torch_tagger import TorchTagger
from mindlens.models.windows import hf_windows, neighbours

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "These traitors will stop at nothing to destroy our great nation!",
    "Rain tomorrow.",
    "Café “quotes” — don't   split   oddly, Ünïcödé.",
    "",
    " ".join(["Everyone knows the corrupt elite lies to you every single day."] * 8),  # several windows
]
SENTENCES = [
    "The corrupt elite lies.",
    "They are traitors, all of them!",
    "Rain tomorrow.",
    " ".join(["Everyone knows the corrupt elite lies to you every single day."] * 6),
]
# int8 on a random 32-wide network: weights are quantized per channel, activations per
# batch, so logits move by a few hundredths; probabilities stay within this.
INT8_PROB_TOLERANCE = 0.1


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


def test_serving_modules_import_neither_torch_nor_transformers() -> None:
    """The served path (ONNX tagger, analyzer) and the family registry the configuration
    reads must load where torch is not installed."""
    code = (
        "import sys; import mindlens.models.onnx_tagger, mindlens.models.analyzer, mindlens.config; "
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


# --- every head (TC, clickbait), context pairs ----------------------------------
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


def test_onnx_refuses_config_naming_heads_it_lacks(
    exported: tuple[TorchTagger, Path], tmp_path: Path
) -> None:
    _, folder = exported
    for name in (FP32, TOKENIZER):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    TaggerConfig(labels=LABELS, backbone="x", heads=list(HEADS)).save(tmp_path)
    with pytest.raises(ValueError, match="tc_token_logits"):
        OnnxTagger.load(tmp_path, "fp32")


def test_the_served_session_leaves_out_the_slow_fusion() -> None:
    """ORT's profile of the shipped graph in the served session (``bench_inference.py
    --fusions``'s breakdown): the int8 projections dominate and no ``SkipLayerNormalization``
    (``SLOW_FUSIONS``) is left, while a session with every optimizer on has one."""
    from mindlens.models.onnx_tagger import SLOW_FUSIONS
    from mindlens.models.windows import pad_windows
    from mindlens.training.release import SHIPPED

    spec = importlib.util.spec_from_file_location(
        "bench_inference", ROOT / "benchmarks" / "bench_inference.py"
    )
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tagger = OnnxTagger.load(SHIPPED / "span_model", "int8")
    batch = pad_windows(tagger._windows(["They are traitors, all of them!", "Rain tomorrow."]), False)
    feeds = [{name: batch[name].astype(np.int64) for name in tagger.inputs}]
    graph = (SHIPPED / "span_model" / INT8).read_bytes()
    served = bench.op_profile(graph, feeds, 1)
    assert "SkipLayerNormFusion" in SLOW_FUSIONS and "SkipLayerNormalization" not in served
    assert next(iter(served)) == "MatMulIntegerToFloat"  # sorted, heaviest first
    assert "SkipLayerNormalization" in bench.op_profile(graph, feeds, 1, disabled=())
