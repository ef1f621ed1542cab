"""Batch-invariant int8: activations are quantized with fixed, calibrated ranges.

Why: ONNX Runtime's dynamic quantization (``DynamicQuantizeLinear``) takes one
activation range per ``run`` call, padding rows included, so a sentence's scores
depended on which other sentences shared its batch (up to 0.16 apart alone vs. inside
its article). With ranges fixed once, from calibration sentences, each row is computed
from its own values only: the same text gets the same answer alone, in its article or
in any batch.

How: :func:`fix_activation_ranges` turns each ``DynamicQuantizeLinear`` of a
``quantize_dynamic`` graph into a ``QuantizeLinear`` with constant scale and zero point
(the min/max the activation reaches over calibration windows). The int8 weights stay
bit for bit, the residual stream and every output stay float, so quality stays that of
the dynamic graph. ORT's optimizer fuses ``MatMulInteger`` into ``MatMulIntegerToFloat``
only behind ``DynamicQuantizeLinear``, so :func:`fuse_integer_matmuls` does it for the
fixed-range graph when a session is made (the same numbers, about a sixth less time). ``quantize_static`` (QDQ, per-channel weights, MinMax or
Percentile calibration, 7- or 8-bit weights) was tried on V2 and lost 1.3-3.7 points of
PTC val SI F1 against the fp32 graph (QDQ also rounds the residual stream); this keeps
the dynamic graph's quality (``bench_inference.py --quantization`` measures it against
the dynamic and fp32 graphs). ``export_onnx`` uses it for new models (calibrating
on training sentences); ``mindlens registry requantize`` for shipped releases, which kept
no fp32 weights (:func:`dequantize_dynamic` rebuilds an fp32 graph from them, to measure
what int8 costs). onnx and onnxruntime are imported inside the functions.

The integer arithmetic is the dynamic graph's (u8 activations, s8 per-channel weights):
on AVX2 CPUs without VNNI, ORT adds pairs of u8×s8 products in int16, which can
saturate, so AVX2 and AVX-512 VNNI/AMX machines may differ in the last digits; on any one
machine the result is the same whatever the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_SENTENCES = 300  # enough for stable ranges; calibration cost grows with it


def dequantize_dynamic(model: Any) -> Any:
    """An fp32 copy of a ``quantize_dynamic`` graph: each ``MatMulInteger`` whose weight is
    an initializer, with the ``Cast`` and scale ``Mul`` after it, becomes a ``MatMul`` on the
    dequantized weight ``(q - zero_point) * scale``; the ``DynamicQuantizeLinear`` nodes
    left without readers are dropped. Quantized embedding ``Gather`` + ``DequantizeLinear``
    stay (their rounding does not depend on the batch, and no fp32 table exists)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    readers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    replaced: dict[int, Any] = {}  # id(node) -> new node (or None: drop)
    for node in graph.node:
        if node.op_type != "MatMulInteger" or node.input[1] not in inits:
            continue
        quantize = producer.get(node.input[0])
        cast = _only_reader(readers, node.output[0], "Cast")
        mul = _only_reader(readers, cast.output[0], "Mul") if cast is not None else None
        if quantize is None or quantize.op_type != "DynamicQuantizeLinear" or mul is None:
            raise ValueError(f"{node.name}: not the MatMulInteger pattern quantize_dynamic writes")
        scales = producer[next(i for i in mul.input if i != cast.output[0])]  # Mul(x_scale, w_scale)
        w_scale = next(i for i in scales.input if i in inits)
        weight = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        zero = numpy_helper.to_array(inits[node.input[3]]).astype(np.float32) if len(node.input) > 3 else 0.0
        fp32 = ((weight - zero) * numpy_helper.to_array(inits[w_scale]).astype(np.float32)).astype(np.float32)
        name = f"{node.input[1].removesuffix('_quantized')}_dequantized"
        graph.initializer.append(numpy_helper.from_array(fp32, name))
        replaced[id(node)] = helper.make_node(
            "MatMul", [quantize.input[0], name], [mul.output[0]], name=f"{node.name}_fp32"
        )
        replaced[id(cast)] = replaced[id(mul)] = None
    nodes = [replaced.get(id(n), n) for n in graph.node if replaced.get(id(n), n) is not None]
    del graph.node[:]
    graph.node.extend(_live(nodes, {o.name for o in graph.output}))
    used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model


def quantize_int8(fp32_path: Path, out_path: Path, feeds: Sequence[dict[str, np.ndarray]]) -> Path:
    """The served int8 graph of an fp32 export: ``quantize_dynamic`` (s8 per-channel
    weights, as before) with its activation ranges then fixed on ``feeds``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8, per_channel=True)
    onnx.save(served_int8(onnx.load(str(out_path)), feeds), str(out_path))
    return out_path


def served_int8(dynamic: Any, feeds: Sequence[dict[str, np.ndarray]]) -> Any:
    """What is served from a ``quantize_dynamic`` graph: fixed activation ranges, and no
    NaN guards after the attention softmax."""
    return drop_softmax_nan_guards(fix_activation_ranges(dynamic, feeds))


def drop_softmax_nan_guards(model: Any) -> Any:
    """The graph without ``Where(IsNaN(softmax), 0, softmax)`` after each attention softmax
    (what torch's SDPA export adds for rows whose keys are all masked): a window always
    holds at least its [CLS] token, so no row is all masked and the guard never fires, yet
    it costs two passes over every [batch, heads, n, n] attention matrix (about a fifth of
    the forward pass on MiniLM). Outputs are unchanged, bit for bit."""
    import onnx

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    rename: dict[str, str] = {}
    dropped: set[int] = set()
    for node in graph.node:
        guard = producer.get(node.input[0]) if node.op_type == "Where" else None
        if guard is None or guard.op_type != "IsNaN":
            continue
        source = producer.get(guard.input[0])
        if source is not None and source.op_type == "Softmax" and node.input[2] == guard.input[0]:
            rename[node.output[0]] = guard.input[0]
            dropped |= {id(node), id(guard)}
    outputs = {o.name for o in graph.output}
    if outputs & set(rename):
        raise ValueError("a NaN guard's output is a graph output; refusing to drop it")
    nodes = [n for n in graph.node if id(n) not in dropped]
    for node in nodes:
        for k, name in enumerate(node.input):
            node.input[k] = rename.get(name, name)
    _set_nodes(graph, nodes)
    return model


def _set_nodes(graph: Any, nodes: Sequence[Any]) -> None:
    """Make ``nodes`` the graph's nodes and drop the initializers none of them reads."""
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def fuse_integer_matmuls(model: Any) -> tuple[Any, int]:
    """The graph with each ``MatMulInteger -> Cast -> Mul(scale) [-> Add(bias)]`` chain
    replaced by one ``com.microsoft.MatMulIntegerToFloat`` (and how many were), whose
    kernel scales and adds the bias while the int32 sums are still in cache: three passes
    over every projection's output less. The scale is a constant, or the product of the
    activation's and the weights' constant scales that the quantizer writes; anything else
    is left as it is. Outputs are unchanged (checked bit for bit on the shipped graphs,
    ``tests/unit/test_batch_invariance.py``)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    readers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    constants = {i.name: i for i in graph.initializer}
    one = "mindlens_fused_unit_scale"
    fused: dict[int, Any] = {}  # id of the MatMulInteger -> its replacement
    dropped: set[int] = set()
    for node in graph.node:
        if node.op_type != "MatMulInteger" or len(node.input) != 4:
            continue
        cast = _only_reader(readers, node.output[0], "Cast")
        mul = cast and _only_reader(readers, cast.output[0], "Mul")
        if cast is None or mul is None:
            continue
        scale = next(i for i in mul.input if i != cast.output[0])
        source = producer.get(scale)
        if scale in constants:
            a_scale, b_scale = one, scale
        elif source is not None and source.op_type == "Mul" and all(i in constants for i in source.input):
            x, y = source.input
            a_scale, b_scale = (x, y) if numpy_helper.to_array(constants[x]).size == 1 else (y, x)
            if numpy_helper.to_array(constants[a_scale]).size != 1:
                continue
        else:
            continue
        chain, output, bias = [cast, mul], mul.output[0], ""
        add = _only_reader(readers, output, "Add")
        if add is not None:
            other = next(i for i in add.input if i != output)
            if other in constants and numpy_helper.to_array(constants[other]).ndim == 1:
                chain, output, bias = [*chain, add], add.output[0], other
        a, b, a_zero, b_zero = node.input
        fused[id(node)] = helper.make_node(
            "MatMulIntegerToFloat",
            [a, b, a_scale, b_scale, a_zero, b_zero, bias],
            [output],
            name=f"{node.name}_to_float",
            domain="com.microsoft",
        )
        dropped |= {id(n) for n in chain}
    if not fused:
        return model, 0
    if any(i == one for n in fused.values() for i in n.input):
        graph.initializer.append(numpy_helper.from_array(np.array(1.0, dtype=np.float32), one))
    nodes = [fused.get(id(n), n) for n in graph.node if id(n) not in dropped]
    _set_nodes(graph, _live(nodes, {o.name for o in graph.output}))
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model, len(fused)


def fix_activation_ranges(model: Any, feeds: Sequence[dict[str, np.ndarray]]) -> Any:
    """A copy of a ``quantize_dynamic`` graph whose activations are quantized with fixed
    ranges: each ``DynamicQuantizeLinear`` (range from the whole batch) becomes a
    ``QuantizeLinear`` whose scale and zero point are constants, from the min/max the
    activation reached over the calibration ``feeds`` (same u8 formula). The int8 weights
    stay bit for bit and nothing else changes (residual stream and outputs stay float), so
    quality stays that of the dynamic graph while each row is computed from itself only."""
    import onnx
    from onnx import helper, numpy_helper

    if not feeds:
        raise ValueError("fixing activation ranges needs calibration sentences")
    model = onnx.ModelProto.FromString(model.SerializeToString())
    quantizers = [n for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
    if not quantizers:
        raise ValueError("the graph has no DynamicQuantizeLinear: not a dynamically quantized graph")
    names = [n.input[0] for n in quantizers]
    low, high = _activation_ranges(model, names, feeds)
    graph = model.graph
    for node in quantizers:
        x, (q, scale_name, zero_name) = node.input[0], node.output
        lo, hi = min(0.0, low[x]), max(0.0, high[x])
        scale = (hi - lo) / 255.0 if hi > lo else 1.0
        zero = int(np.clip(np.round(-lo / scale), 0, 255))
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.array(scale, dtype=np.float32), scale_name),
                numpy_helper.from_array(np.array(zero, dtype=np.uint8), zero_name),
            ]
        )
        index = list(graph.node).index(node)
        graph.node.remove(node)
        graph.node.insert(
            index,
            helper.make_node("QuantizeLinear", [x, scale_name, zero_name], [q], name=f"{node.name}_static"),
        )
    return model


def _activation_ranges(
    model: Any, names: Sequence[str], feeds: Sequence[dict[str, np.ndarray]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Min and max of each named tensor over ``feeds`` (the graph run with them as outputs)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    probe = onnx.ModelProto.FromString(model.SerializeToString())
    known = {o.name for o in probe.graph.output}
    probe.graph.output.extend(
        helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in names if name not in known
    )
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    low = dict.fromkeys(names, np.inf)
    high = dict.fromkeys(names, -np.inf)
    for feed in feeds:
        for name, value in zip(names, session.run(list(names), feed), strict=True):
            low[name] = min(low[name], float(value.min()))
            high[name] = max(high[name], float(value.max()))
    return low, high


def _only_reader(readers: dict[str, list[Any]], name: str, op_type: str) -> Any:
    found = readers.get(name, [])
    return found[0] if len(found) == 1 and found[0].op_type == op_type else None


def _live(nodes: Sequence[Any], outputs: set[str]) -> list[Any]:
    """``nodes`` (in order) that some graph output depends on."""
    needed, keep = set(outputs), []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    return keep[::-1]


def calibration_sentences(manifest: Any, n: int = CALIBRATION_SENTENCES, seed: int = 0) -> list[str]:
    """A fixed random sample of ``n`` PTC training sentences (never validation or test) from
    a processed dataset ``Manifest``: what the int8 ranges are calibrated on."""
    table = manifest.table("sentences")
    rows = table[(table["split"] == "train") & (table["source"] == "ptc")]
    if rows.empty:
        raise ValueError("the processed dataset has no PTC training sentences to calibrate on")
    return rows.sample(n=min(n, len(rows)), random_state=seed)["text"].tolist()


def calibration_feeds(tagger: Any, texts: Sequence[str]) -> list[dict[str, np.ndarray]]:
    """One feed per window of ``texts`` (each alone, no padding), for the inputs the graph
    takes; ``tagger`` is any tagger with ``_windows`` and ``inputs``/``config``."""
    from mindlens.models.tagger_config import input_names
    from mindlens.models.windows import pad_windows

    contexts = [("", "")] * len(texts) if tagger.config.context_sentences else None
    names = input_names(tagger.config)
    feeds = []
    for window in tagger._windows(list(texts), contexts):
        batch = pad_windows([window], bool(tagger.config.context_sentences))
        feeds.append({name: batch[name] for name in names})
    return feeds
