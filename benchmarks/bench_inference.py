"""Inference benchmark: PyTorch vs ONNX fp32 vs ONNX int8, on the same texts, in one run.

Why one run: CPU timings drift by ±20 % between runs, so the paths are only comparable
side by side. Speed without quality is meaningless for int8, so every path is also
scored (sentence-level micro-F1 against gold), and the best path's arithmetic rate is
put against the machine's measured matmul peak to show how much headroom is left.

    python benchmarks/bench_inference.py --model MODEL [--texts 256] [--batch-size 32] [--out r.json]

``MODEL/torch`` is a ``TorchTagger.save`` folder, ``MODEL/onnx`` its export
(written here from ``MODEL/torch`` when missing). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from mindlens.evaluation.classification import multilabel_report
from mindlens.models.onnx_tagger import ENCODER_CONFIG, FP32, INT8, OnnxTagger
from mindlens.models.tagger import TaggerBase
from mindlens.models.tagger_config import TaggerConfig
from mindlens.preprocessing.labels import indicator

F1_FLAG_POINTS = 1.0

# Used when no processed dataset exists (CI, fresh checkouts). Labels are PTC names.
BUILTIN: list[tuple[str, list[str]]] = [
    ("Two prominent US bloggers have been banned from entering the UK, the Home Office has said.", []),
    ("These traitors will stop at nothing to destroy our great nation.", ["name_calling", "loaded_language"]),
    ("The meeting was moved to Thursday afternoon.", []),
    ("Make America Great Again!", ["slogans", "flag_waving"]),
    ("If we let them in, our children will never be safe again.", ["appeal_to_fear"]),
    ("Everyone is joining the movement; don't be the last one left behind.", ["bandwagon"]),
    ("Either you are with us, or you are with the terrorists.", ["black_and_white_fallacy"]),
    ("Is he really the man he claims to be, or is there something he is hiding?", ["doubt"]),
    ("The new bridge is 400 metres long and opens next spring.", []),
    ("This is the worst disaster in the history of the world.", ["exaggeration_minimisation"]),
    ("As the Pope himself said, this law is an abomination.", ["appeal_to_authority"]),
    ("It is what it is; nothing more needs to be said.", ["thought_terminating_cliche"]),
    ("But what about the crimes the other side committed last year?", ["whataboutism_strawman_red_herring"]),
    ("Unemployment rose because immigrants took all the jobs.", ["causal_oversimplification"]),
    ("Shares closed slightly higher on Tuesday after a quiet session.", []),
    (
        "Freedom, freedom, freedom: they will never take our freedom, our sacred freedom!",
        ["repetition", "loaded_language"],
    ),
]


def load_texts(n: int, builtin: bool, seed: int = 0) -> tuple[list[str], list[list[str]], str]:
    """PTC validation sentences (a fixed random sample) if processed, else the built-in set."""
    if not builtin:
        try:
            from mindlens.config import get_settings
            from mindlens.data.dataset import Manifest

            table = Manifest.read(get_settings().processed_dir / "manifest.json").table("sentences")
            rows = table[(table["split"] == "val") & (table["source"] == "ptc")]
            if len(rows):
                rows = rows.sample(n=min(n, len(rows)), random_state=seed)
                return rows["text"].tolist(), [list(x) for x in rows["labels"]], "ptc/val"
        except FileNotFoundError:
            pass
    pool = [BUILTIN[i % len(BUILTIN)] for i in range(n)]
    random.Random(seed).shuffle(pool)
    return [t for t, _ in pool], [g for _, g in pool], "builtin"


def gold_matrix(gold: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """Gold as a [texts, labels] bool matrix; techniques outside the model's labels are dropped."""
    return indicator(gold, labels)


def _percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def measure(
    name: str, tagger: TaggerBase, texts: list[str], batch_size: int, single: int
) -> tuple[dict[str, Any], np.ndarray]:
    """Throughput and per-batch latency over all texts, then per-text latency on ``single`` texts."""
    tagger.tag(texts[:batch_size], batch_size=batch_size)  # warm-up: allocators, thread pools
    batch_times, probs = [], []
    for begin in tqdm(range(0, len(texts), batch_size), desc=f"{name} batches", leave=False):
        start = time.perf_counter()
        tagged = tagger.tag(texts[begin : begin + batch_size], batch_size=batch_size)
        batch_times.append(time.perf_counter() - start)
        probs += [t.sentence_probs for t in tagged]
    single_times = []
    for text in tqdm(texts[:single], desc=f"{name} single", leave=False):
        start = time.perf_counter()
        tagger.tag([text], batch_size=1)
        single_times.append(time.perf_counter() - start)
    total = sum(batch_times)
    return (
        {
            "texts_per_s": len(texts) / total,
            "seconds": total,
            "batch": _percentiles(batch_times),
            "single": _percentiles(single_times) if single_times else {},
        },
        np.vstack(probs),
    )


def matmul_peak(size: int = 2048, repeats: int = 5, threads: int | None = None) -> float:
    """Best-of-``repeats`` numpy float32 matmul rate in GFLOP/s (2·n³ FLOPs each), on
    ``threads`` BLAS threads when given (the same budget as the measured paths)."""
    from contextlib import nullcontext

    try:
        from threadpoolctl import threadpool_limits

        limit: Any = threadpool_limits(threads) if threads else nullcontext()
    except ImportError:
        limit = nullcontext()
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    with limit:
        a @ b  # warm-up
        best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def model_flops(encoder: dict[str, Any], n_labels: int, window_lengths: Sequence[int]) -> dict[str, Any]:
    """Useful FLOPs of the network over the given windows (padding excluded).

    Dense: 2 · (matmul parameters) per token, with per layer 4·H² (Q, K, V, output)
    + 2·H·I (feed-forward), plus the two heads 2·H·labels; embeddings are lookups.
    Attention: per layer 4·n²·H per window of n tokens (QKᵀ and AV).
    """
    h, layers = int(encoder["hidden_size"]), int(encoder["num_hidden_layers"])
    inter = int(encoder.get("intermediate_size", 4 * h))
    matmul_params = layers * (4 * h * h + 2 * h * inter) + 2 * h * n_labels
    lengths = np.asarray(window_lengths, dtype=np.float64)
    dense = 2.0 * matmul_params * lengths.sum()
    attention = 4.0 * layers * h * float((lengths**2).sum())
    return {
        "matmul_params": matmul_params,
        "tokens": int(lengths.sum()),
        "flops_per_token_dense": 2 * matmul_params,
        "total_flops": dense + attention,
        "method": "2*matmul_params per real token (per layer 4H^2+2HI, plus heads) "
        "+ 4*layers*H*n^2 attention per window of n tokens; padding excluded; "
        "time includes tokenisation and decoding",
    }


def resolve_layout(model: Path) -> tuple[Path | None, Path]:
    """``MODEL/torch`` (or MODEL itself if it is a torch folder) and ``MODEL/onnx``."""
    torch_dir = model / "torch" if (model / "torch").is_dir() else None
    if torch_dir is None and (model / "heads.safetensors").is_file():
        torch_dir = model
    return torch_dir, model / "onnx"


def run(
    model: Path,
    n_texts: int = 256,
    batch_size: int = 32,
    single: int = 64,
    threads: int | None = None,
    builtin: bool = False,
    peak_size: int = 2048,
) -> dict[str, Any]:
    """Everything measured, as a JSON-ready dict."""
    torch_dir, onnx_dir = resolve_layout(Path(model))
    if not (onnx_dir / FP32).is_file():
        if torch_dir is None:
            raise FileNotFoundError(f"{model}: neither {onnx_dir / FP32} nor a torch folder to export")
        from mindlens.models.onnx_tagger import export_onnx
        from mindlens.models.torch_tagger import TorchTagger

        print(f"exporting {torch_dir} -> {onnx_dir}")
        export_onnx(TorchTagger.load(torch_dir), onnx_dir)
    config = TaggerConfig.load(onnx_dir)
    texts, gold, source = load_texts(n_texts, builtin)
    y_true = gold_matrix(gold, config.labels)

    taggers: dict[str, Callable[[], TaggerBase]] = {}
    if torch_dir is not None:

        def _torch() -> TaggerBase:
            import torch

            from mindlens.models.torch_tagger import TorchTagger

            if threads:
                torch.set_num_threads(threads)
            return TorchTagger.load(torch_dir)

        taggers["torch"] = _torch
    taggers["onnx-fp32"] = lambda: OnnxTagger.load(onnx_dir, "fp32", threads)
    if (onnx_dir / INT8).is_file():
        taggers["onnx-int8"] = lambda: OnnxTagger.load(onnx_dir, "int8", threads)

    results: dict[str, Any] = {}
    probs: dict[str, np.ndarray] = {}
    for name, make in taggers.items():
        tagger = make()
        results[name], probs[name] = measure(name, tagger, texts, batch_size, min(single, len(texts)))
        report = multilabel_report(y_true, probs[name] >= config.sentence_threshold, config.labels)
        results[name]["micro_f1"] = report["micro_f1"]
        results[name]["macro_f1"] = report["macro_f1"]
        del tagger
    reference = probs["onnx-fp32"]
    for name, r in results.items():
        diff = np.abs(probs[name] - reference)
        r["max_prob_diff_vs_fp32"] = float(diff.max())
        r["mean_prob_diff_vs_fp32"] = float(diff.mean())
        threshold = config.sentence_threshold
        r["decisions_changed_vs_fp32"] = int(((probs[name] >= threshold) != (reference >= threshold)).sum())

    encoder = json.loads((onnx_dir / ENCODER_CONFIG).read_text())
    lengths = [len(w["input_ids"]) for w in OnnxTagger.load(onnx_dir, "fp32")._windows(texts)]
    flops = model_flops(encoder, len(config.labels), lengths)
    peak = matmul_peak(peak_size, threads=threads)
    for r in results.values():
        r["gflops"] = flops["total_flops"] / r["seconds"] / 1e9
        r["pct_of_peak"] = 100 * r["gflops"] / peak
    best = max(results, key=lambda k: results[k]["texts_per_s"])
    out: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "threads": threads,
            "matmul_peak_gflops": peak,
            "peak_method": f"numpy float32 {peak_size}x{peak_size} matmul, best of 5, 2n^3 FLOPs, "
            f"threads={threads or 'default'}",
        },
        "model": str(model),
        "texts": len(texts),
        "text_source": source,
        "batch_size": batch_size,
        "labels": len(config.labels),
        "gold_positive_labels": int(y_true.sum()),
        "flops": flops,
        "paths": results,
        "best_path": best,
    }
    if "onnx-int8" in results:
        delta = 100 * float(results["onnx-int8"]["micro_f1"] - results["onnx-fp32"]["micro_f1"])
        out["int8_minus_fp32_f1_points"] = delta
        out["int8_f1_flag"] = bool(abs(delta) > F1_FLAG_POINTS)
    return out


def markdown(result: dict[str, Any]) -> str:
    """The side-by-side table plus the notes that make it readable."""
    lines = [
        (
            "| path | texts/s | batch p50 ms | batch p95 ms | single p50 ms | single p95 ms "
            "| micro-F1 | max Δprob vs fp32 | decisions changed vs fp32 | GFLOP/s | % of matmul peak |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["paths"].items():
        single = r["single"] or {"p50_ms": float("nan"), "p95_ms": float("nan")}
        lines.append(
            f"| {name} | {r['texts_per_s']:.1f} | {r['batch']['p50_ms']:.1f} | {r['batch']['p95_ms']:.1f} "
            f"| {single['p50_ms']:.1f} | {single['p95_ms']:.1f} | {r['micro_f1']:.4f} "
            f"| {r['max_prob_diff_vs_fp32']:.1e} | {r['decisions_changed_vs_fp32']} | {r['gflops']:.1f} | {r['pct_of_peak']:.1f} |"
        )
    m = result["machine"]
    lines += [
        "",
        (
            f"texts: {result['texts']} ({result['text_source']}), batch size {result['batch_size']}, "
            f"{result['gold_positive_labels']} gold labels"
        ),
        f"matmul peak: {m['matmul_peak_gflops']:.1f} GFLOP/s ({m['peak_method']})",
        (
            f"model FLOPs: {result['flops']['total_flops'] / 1e9:.2f} GFLOP over {result['flops']['tokens']} "
            f"tokens; method: {result['flops']['method']}"
        ),
        (
            f"best path: {result['best_path']} at {result['paths'][result['best_path']]['pct_of_peak']:.1f} % "
            "of the fp32 matmul peak (int8 is counted in the same FLOPs)"
        ),
    ]
    if "int8_minus_fp32_f1_points" in result:
        flag = "  ** FLAG: more than 1 point **" if result["int8_f1_flag"] else ""
        lines.append(f"int8 - fp32 micro-F1: {result['int8_minus_fp32_f1_points']:+.2f} points{flag}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="folder with torch/ and/or onnx/")
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--single", type=int, default=64, help="texts timed one at a time")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads for all paths")
    parser.add_argument("--builtin", action="store_true", help="use the built-in sample, not PTC val")
    parser.add_argument("--peak-size", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    result = run(
        args.model, args.texts, args.batch_size, args.single, args.threads, args.builtin, args.peak_size
    )
    print(markdown(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
