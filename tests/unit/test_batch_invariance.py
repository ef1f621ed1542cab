"""The same text gets the same scores alone, inside its article and in any batch: the int8
graph's activation ranges are calibrated once (static quantization), never taken from the
batch it runs in. Checked on the tiny test model (exported here) and on the shipped
champion's graph; plus the pieces that make inference waste nothing (token-budget batches,
the title's clickbait from the sentence pass)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from mindlens.models.onnx_tagger import FP32, INT8, OnnxTagger
from mindlens.models.tagger import TaggerBase, token_batches
from mindlens.training.release import SHIPPED

ARTICLE = [
    "Shares closed slightly higher on Tuesday after a quiet session.",
    "These traitors will stop at nothing to destroy our great nation!",
    "Rain tomorrow.",
    "Everyone knows the corrupt elite lies to you every single day, and only fools believe them.",
    "The new bridge is 400 metres long and opens next spring, the council said in a statement.",
    "Either you are with us, or you are with the terrorists.",
    "Is he really the man he claims to be?",
    "Freedom, freedom, freedom: they will never take our sacred freedom!",
    "The meeting was moved to Thursday afternoon.",
    "Unemployment rose because immigrants took all the jobs, the pamphlet claimed without evidence.",
] * 4
TARGET = ARTICLE[3]
TOLERANCE = 1e-4


def _outputs_of(tagger: TaggerBase, texts: list[str], index: int, **batching: Any) -> dict[str, np.ndarray]:
    """Every network output for the windows of ``texts[index]``, run among ``texts``."""
    inference = tagger.infer(texts, **batching)
    rows = [k for k, w in enumerate(inference.windows) if w["text_index"] == index]
    return {
        name: np.concatenate([np.ravel(values[k]) for k in rows])
        for name, values in inference.outputs.items()
    }


def assert_batch_invariant(tagger: TaggerBase) -> None:
    alone = _outputs_of(tagger, [TARGET], 0, batch_size=1)
    runs = {
        "in its article": _outputs_of(tagger, ARTICLE, 3),
        **{f"batch of {n}": _outputs_of(tagger, ARTICLE[:n], 3, batch_size=n) for n in (8, 32)},
        "fixed batches of 32, no token budget": _outputs_of(tagger, ARTICLE, 3, max_tokens=10**9),
    }
    for how, outputs in runs.items():
        for name, values in outputs.items():
            np.testing.assert_allclose(values, alone[name], atol=TOLERANCE, err_msg=f"{name}, {how}")


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_tagger import tiny_multitask

    from mindlens.models.onnx_tagger import export_onnx

    folder = tmp_path_factory.mktemp("tiny-int8")
    export_onnx(tiny_multitask(), folder, calibration=ARTICLE)
    return folder


def test_exported_int8_is_batch_invariant(tiny_export: Path) -> None:
    import onnx

    ops = {n.op_type for n in onnx.load(str(tiny_export / INT8)).graph.node}
    assert "DynamicQuantizeLinear" not in ops and "IsNaN" not in ops and "QuantizeLinear" in ops
    assert_batch_invariant(OnnxTagger.load(tiny_export, "int8"))


def test_shipped_champion_is_batch_invariant() -> None:
    assert_batch_invariant(OnnxTagger.load(SHIPPED / "span_model", "int8"))


def test_fused_integer_matmuls_compute_the_same_outputs() -> None:
    """Every projection of the shipped graph becomes one MatMulIntegerToFloat, and the
    session made from the rewritten graph gives the file's outputs bit for bit."""
    import onnx

    from mindlens.models.onnx_tagger import _session
    from mindlens.models.quantization import fuse_integer_matmuls

    path = SHIPPED / "span_model" / INT8
    model = onnx.load(str(path))
    fused, count = fuse_integer_matmuls(model)
    ops = [n.op_type for n in fused.graph.node]
    assert count == sum(n.op_type == "MatMulInteger" for n in model.graph.node) > 0
    assert "MatMulInteger" not in ops and ops.count("MatMulIntegerToFloat") == count
    assert fuse_integer_matmuls(fused)[1] == 0  # nothing left to fuse
    tagger = OnnxTagger.load(SHIPPED / "span_model", "int8")
    plain = OnnxTagger.load(SHIPPED / "span_model", "int8")
    plain.session = _session(path, 1, fuse=False)
    for texts in (ARTICLE, ARTICLE[:3]):
        want, got = plain.infer(texts), tagger.infer(texts)
        for name, values in want.outputs.items():
            for a, b in zip(values, got.outputs[name], strict=True):
                np.testing.assert_array_equal(a, b, err_msg=name)


def test_batches_run_side_by_side_give_the_same_outputs() -> None:
    """A tagger loaded without a thread count runs a text's batches side by side on the
    process's pool (``models.parallel``); the outputs are those of one batch at a time, bit
    for bit, in the same order."""
    side_by_side = OnnxTagger.load(SHIPPED / "span_model", "int8")
    one_by_one = OnnxTagger.load(SHIPPED / "span_model", "int8", threads=1)
    assert side_by_side.parallel_batches and not one_by_one.parallel_batches
    texts = ARTICLE * 3  # several token-budget batches
    want, got = one_by_one.infer(texts, batch_size=8), side_by_side.infer(texts, batch_size=8)
    assert [w["text_index"] for w in got.windows] == [w["text_index"] for w in want.windows]
    for name, values in want.outputs.items():
        for a, b in zip(values, got.outputs[name], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_dequantize_dynamic_rebuilds_the_fp32_graph(tiny_export: Path, tmp_path: Path) -> None:
    """A dynamically quantized graph (what V1 and V2 shipped) turns back into fp32 MatMuls on
    its own int8 weights: no integer op is left and it computes what fp32 computes, up to
    the weights' int8 rounding."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from mindlens.models.quantization import dequantize_dynamic

    dynamic = tmp_path / "dynamic.onnx"
    quantize_dynamic(str(tiny_export / FP32), str(dynamic), weight_type=QuantType.QInt8, per_channel=True)
    rebuilt = dequantize_dynamic(onnx.load(str(dynamic)))
    ops = {n.op_type for n in rebuilt.graph.node}
    assert not ops & {"MatMulInteger", "DynamicQuantizeLinear"}, ops
    (tmp_path / "rebuilt").mkdir()
    onnx.save(rebuilt, str(tmp_path / "rebuilt" / FP32))
    for name in ("tokenizer.json", "tagger.json"):
        (tmp_path / "rebuilt" / name).write_bytes((tiny_export / name).read_bytes())
    fp32 = OnnxTagger.load(tiny_export, "fp32").infer(ARTICLE[:10])
    got = OnnxTagger.load(tmp_path / "rebuilt", "fp32").infer(ARTICLE[:10])
    for name, values in fp32.outputs.items():
        worst = max(float(np.abs(a - b).max()) for a, b in zip(values, got.outputs[name], strict=True))
        assert 0 < worst < 0.05, (name, worst)  # int8 weights: close, not identical


def test_dropping_softmax_nan_guards_changes_no_output(tiny_export: Path, tmp_path: Path) -> None:
    import onnx

    from mindlens.models.quantization import drop_softmax_nan_guards

    graph = onnx.load(str(tiny_export / FP32))
    assert "IsNaN" in {n.op_type for n in graph.graph.node}  # what the SDPA export writes
    (tmp_path / "lean").mkdir()
    onnx.save(drop_softmax_nan_guards(graph), str(tmp_path / "lean" / FP32))
    assert "IsNaN" not in {n.op_type for n in onnx.load(str(tmp_path / "lean" / FP32)).graph.node}
    for name in ("tokenizer.json", "tagger.json"):
        (tmp_path / "lean" / name).write_bytes((tiny_export / name).read_bytes())
    expected = OnnxTagger.load(tiny_export, "fp32").infer(ARTICLE[:10])
    got = OnnxTagger.load(tmp_path / "lean", "fp32").infer(ARTICLE[:10])
    for name, values in expected.outputs.items():
        for a, b in zip(values, got.outputs[name], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_token_batches_fill_a_budget() -> None:
    lengths = [5, 5, 6, 10, 10, 10, 30, 200]
    batches = token_batches(lengths, 32, 32)
    assert [k for b in batches for k in b] == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[k] for k in batch) <= 32
    assert batches[-1] == [7]  # longer than the budget: alone
    assert token_batches(lengths, 10**6, 3) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    with pytest.raises(ValueError):
        token_batches(lengths, 0, 3)


def test_title_clickbait_comes_from_the_sentence_pass(tiny_export: Path) -> None:
    """The headline is the article's first sentence: its clickbait score is read from the
    pass that scored the sentences (one network pass per article), and equals a pass over
    the headline alone."""
    from mindlens.models.analyzer import Analyzer

    tagger = OnnxTagger.load(tiny_export, "int8")
    analyzer = Analyzer(None, span_model=tagger)
    headline = "You won't believe what this senator just said"
    text = headline + "\n\n" + " ".join(ARTICLE[:6])
    rows_run: list[int] = []
    run = tagger._run

    def counting(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows_run.append(len(inputs["input_ids"]))
        return run(inputs)

    tagger._run = counting  # type: ignore[method-assign]
    out = analyzer.analyze(text)
    windows = len(tagger._windows([s["text"] for s in out["sentences"]]))
    assert sum(rows_run) == windows  # no second pass for the title
    tagger._run = run  # type: ignore[method-assign]
    alone = tagger.tag([headline])[0].clickbait
    assert out["title"]["text"] == headline
    assert out["title"]["clickbait"] == pytest.approx(alone, abs=1e-4)


def test_requantize_cli_refuses_bad_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mindlens.cli import app

    runner = CliRunner()
    missing = runner.invoke(
        app, ["registry", "requantize", "--bundle", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]
    )
    assert missing.exit_code == 2 and "no such folder" in missing.output
    zero = runner.invoke(
        app,
        [
            "registry",
            "requantize",
            "--bundle",
            str(SHIPPED),
            "--out",
            str(tmp_path / "out"),
            "--sentences",
            "0",
        ],
    )
    assert zero.exit_code == 2 and "--sentences must be positive" in zero.output
    assert not (tmp_path / "out").exists()
