"""Inference benchmark: PyTorch vs ONNX fp32 vs ONNX int8, on the same texts, in one run.

Why one run: CPU timings drift by ±20 % between runs, so the paths are only comparable
side by side. Speed without quality is meaningless for int8, so every path is also
scored (sentence-level micro-F1 against gold), and the best path's arithmetic rate is
put against the machine's measured matmul peak to show how much headroom is left.

    python benchmarks/bench_inference.py --model MODEL [--texts 256] [--batch-size 32] [--out r.json]

``MODEL/torch`` is a ``TorchTagger.save`` folder, ``MODEL/onnx`` its export
(written here from ``MODEL/torch`` when missing). See ``benchmarks/README.md``.

``--analyze BUNDLE`` (repeatable) times the whole ``Analyzer.analyze`` on 600-word PTC
articles instead, in alternating rounds of one run: the first bundle also as the code
before issue #14 ran it (a fixed 32 windows per batch, VADER over the whole text, a
second network pass for the title), each bundle as served now, the last one with other
ORT thread counts and token budgets. Ratios against the first row are the figures::

    python benchmarks/bench_inference.py --analyze models/v2 --analyze models/v2.1 [--rounds 3]

``--quantization BUNDLE`` scores a bundle's span model on the PTC val articles (SI, FLC,
TC, sentence F1; ``evaluate_analyzer``'s span tasks) with three graphs: the fp32 graph
rebuilt from its int8 weights, its dynamic int8 graph (ranges per batch) and the same
graph with activation ranges fixed on training sentences (what ``export_onnx`` and
``mindlens registry requantize`` write), and how far a sentence's logits move between
alone and inside its article with each::

    python benchmarks/bench_inference.py --quantization models/v2
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


# --- Analyzer.analyze on whole articles ----------------------------------------------
def articles(n: int, words: int) -> list[str]:
    """The first ``words`` words (original spacing and lines kept) of the first ``n`` PTC
    test-split articles that are at least that long (sorted by id: the same texts each run)."""
    import re

    from mindlens.config import get_settings
    from mindlens.data.dataset import Manifest

    docs = Manifest.read(get_settings().processed_dir).table("documents")
    docs = docs[(docs["source"] == "ptc") & (docs["split"].isin(["unlabelled", "test"]))]
    out = []
    for text in docs.sort_values("document_id")["text"]:
        ends = [m.end() for m in re.finditer(r"\S+", text)]
        if len(ends) >= words:
            out.append(text[: ends[words - 1]])
        if len(out) == n:
            break
    if not out:
        raise FileNotFoundError(f"no processed PTC article of {words}+ words: run `mindlens data prepare`")
    return out


@contextmanager
def legacy(analyzer: Any) -> Iterator[None]:
    """The inference of 1.1.0 before issue #14: fixed batches of 32 windows (no token budget),
    VADER over the whole text, the title through the network a second time, ORT threads
    that spin while idle."""
    import mindlens.features.sentiment as sentiment
    import mindlens.models.tagger as tagger_module

    saved = tagger_module.TOKEN_BUDGET, sentiment.polarity
    tagger_module.TOKEN_BUDGET = 10**9
    sentiment.polarity = lambda text, sentences=None: dict(sentiment.vader().polarity_scores(text))
    analyzer._title_clickbait = lambda headline, texts, found: analyzer.clickbait_score(headline)
    try:
        yield
    finally:
        tagger_module.TOKEN_BUDGET, sentiment.polarity = saved
        del analyzer._title_clickbait


@contextmanager
def budget(tokens: int | None) -> Iterator[None]:
    import mindlens.models.tagger as tagger_module

    saved = tagger_module.TOKEN_BUDGET
    tagger_module.TOKEN_BUDGET = tokens or saved
    try:
        yield
    finally:
        tagger_module.TOKEN_BUDGET = saved


def analyze_run(
    bundles: Sequence[Path], n_articles: int = 20, words: int = 600, rounds: int = 3
) -> dict[str, Any]:
    """p50/p95 of ``Analyzer.analyze`` per article for each configuration, each article run
    under every configuration in turn (shuffled order), the median per-run speed-up against
    the first configuration, and the share of time spent in the network (``_run``)."""
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.onnx_tagger import _session

    texts = articles(n_articles, words)
    loaded = {Path(b): Analyzer.load(b) for b in bundles}
    first, last = Path(bundles[0]), Path(bundles[-1])
    before = Analyzer.load(first)
    before.span_model.session = _session(
        before.span_model.folder / INT8, None, spinning=True, fuse=False, disabled=()
    )
    before.span_model.parallel_batches = False
    configs: dict[str, tuple[Any, Callable[[Any], Any], None]] = {
        f"{first} as before #14 (32 per batch, whole-text VADER, 2nd title pass, spinning threads)": (
            before,
            legacy,
            None,
        )
    }
    for b in loaded:
        configs[f"{b}"] = (loaded[b], lambda a: budget(None), None)
    variants: list[tuple[str, int | None, bool, int | None]] = [  # (name, threads, spinning, budget)
        *((f"{last}, {n} ORT thread(s), batches one at a time", n, False, None) for n in (1, 2)),
        (f"{last}, ORT threads spinning, batches one at a time", None, True, None),
        *((f"{last}, token budget {n}", None, False, n) for n in (128, 256, 512, 2048)),
    ]
    for name, threads, spinning, tokens in variants:
        analyzer = Analyzer.load(last) if threads or spinning else loaded[last]
        if threads or spinning:
            analyzer.span_model.session = _session(analyzer.span_model.folder / INT8, threads, spinning)
            analyzer.span_model.parallel_batches = False  # the session spreads each batch itself
        configs[name] = (analyzer, lambda a, t=tokens: budget(t), None)
    timings: dict[str, list[float]] = {name: [] for name in configs}
    network: dict[str, float] = dict.fromkeys(configs, 0.0)
    for analyzer, context, _ in configs.values():
        with context(analyzer):
            analyzer.analyze(texts[0])  # warm-up
    order = list(configs)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):  # each article under every configuration in turn, in a shuffled
        for text in texts:  # order: load that drifts during the run hits all of them alike
            shuffle(order)
            for name in order:
                analyzer, context, _ = configs[name]
                tagger = analyzer.span_model
                run_network = tagger._run

                def timed_run(inputs: dict[str, np.ndarray], name: str = name, run: Any = run_network) -> Any:
                    started = time.perf_counter()
                    out = run(inputs)
                    network[name] += time.perf_counter() - started
                    return out

                tagger._run = timed_run
                with context(analyzer):
                    started = time.perf_counter()
                    analyzer.analyze(text)
                    timings[name].append(time.perf_counter() - started)
                del tagger._run
    base = np.asarray(timings[next(iter(configs))])
    rows = {}
    for name, seconds in timings.items():
        rows[name] = {
            **_percentiles(seconds),
            "speedup_vs_first": float(np.median(base / np.asarray(seconds))),
            "network_share": network[name] / sum(seconds),
        }
    return {
        "articles": len(texts),
        "words": words,
        "rounds": rounds,
        "machine": {"platform": platform.platform(), "processor": platform.processor()},
        "configs": rows,
    }


def quantization_run(bundle: Path) -> dict[str, Any]:
    """F1 on PTC val and batch dependence of the fp32, dynamic and fixed-range graphs."""
    import tempfile

    import onnx

    from mindlens.config import get_settings
    from mindlens.data.dataset import Manifest
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.onnx_tagger import _session
    from mindlens.models.quantization import (
        calibration_feeds,
        calibration_sentences,
        dequantize_dynamic,
        served_int8,
    )

    manifest = Manifest.read(get_settings().processed_dir)
    val = ptc_val_ids(manifest)
    analyzer = Analyzer.load(bundle)
    tagger = analyzer.require_span_model()
    dynamic = onnx.load(str(tagger.folder / INT8))
    article = [t for t in manifest.table("sentences").query("split == 'val' and source == 'ptc'")["text"]][
        :40
    ]
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        graphs = {
            "fp32 (rebuilt from the int8 weights)": dequantize_dynamic(dynamic),
            "int8, ranges per batch (dynamic)": dynamic,
            "int8, fixed ranges (served)": served_int8(
                dynamic, calibration_feeds(tagger, calibration_sentences(manifest))
            ),
        }
        for k, (name, graph) in enumerate(graphs.items()):
            path = Path(tmp) / f"{k}.onnx"
            onnx.save(graph, str(path))
            tagger.session = _session(path, None)
            rows[name] = ptc_val_f1(analyzer, ("si_f1", "flc_f1", "tc_micro_f1", "micro_f1"))
            full = tagger.infer(article)
            moved = 0.0
            for i, text in enumerate(article):
                alone = tagger.infer([text], batch_size=1).outputs["token_logits"]
                inside = [
                    full.outputs["token_logits"][k]
                    for k, w in enumerate(full.windows)
                    if w["text_index"] == i
                ]
                moved = max(
                    moved, max(float(np.abs(a - b).max()) for a, b in zip(alone, inside, strict=True))
                )
            rows[name]["max_logit_change_alone_vs_article"] = moved
    reference = next(iter(rows.values()))
    for r in rows.values():
        r["si_points_vs_fp32"] = 100 * (r["si_f1"] - reference["si_f1"])
        r["flc_points_vs_fp32"] = 100 * (r["flc_f1"] - reference["flc_f1"])
    return {"bundle": str(bundle), "val_articles": len(val), "graphs": rows}


def quantization_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"{result['bundle']} on {result['val_articles']} PTC val articles:",
        "",
        "| graph | SI F1 | FLC F1 | TC micro-F1 | sentence micro-F1 | SI pts vs fp32 | FLC pts vs fp32 "
        "| max token-logit change, alone vs in article |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["graphs"].items():
        lines.append(
            f"| {name} | {r['si_f1']:.4f} | {r['flc_f1']:.4f} | {r['tc_micro_f1']:.4f} | {r['micro_f1']:.4f} "
            f"| {r['si_points_vs_fp32']:+.2f} | {r['flc_points_vs_fp32']:+.2f} "
            f"| {r['max_logit_change_alone_vs_article']:.2g} |"
        )
    return "\n".join(lines)


def analyze_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Analyzer.analyze on {result['articles']} PTC articles cut to {result['words']} words, "
        f"{result['rounds']} alternating rounds (one run, same machine):",
        "",
        "| configuration | p50 ms | p95 ms | speed-up vs first row (median over article runs) | network share |",
        "|---|---|---|---|---|",
    ]
    for name, r in result["configs"].items():
        lines.append(
            f"| {name} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['speedup_vs_first']:.2f}x "
            f"| {100 * r['network_share']:.0f} % |"
        )
    return "\n".join(lines)


FUSION_CHOICES = (  # ORT optimizers worth checking one by one on the int8 graph
    (),
    ("SkipLayerNormFusion",),
    ("SkipLayerNormFusion", "LayerNormFusion"),
    ("GeluFusion", "BiasGeluFusion"),
    ("AttentionFusion",),
)


def fusions_run(bundle: Path, n_articles: int = 8, words: int = 600, rounds: int = 3) -> dict[str, Any]:
    """The bundle's int8 forward pass over its own article windows (token-budget batches, one
    ORT thread) with each set of ORT graph optimizers disabled in turn: best-of-rounds ms per
    article and the largest output change against all optimizers on (``SLOW_FUSIONS`` in
    ``onnx_tagger`` is chosen from this)."""
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.onnx_tagger import _session
    from mindlens.models.tagger import TOKEN_BUDGET, window_batches
    from mindlens.models.windows import pad_windows
    from mindlens.preprocessing.sentences import split_sentences

    analyzer = Analyzer.load(bundle)
    tagger = analyzer.require_span_model()
    feeds = []
    for text in articles(n_articles, words):
        windows = tagger._windows([s.text for s in split_sentences(text)])
        for indices in window_batches(windows, TOKEN_BUDGET, 32):
            batch = pad_windows([windows[i] for i in indices], bool(tagger.config.context_sentences))
            feeds.append({name: batch[name].astype(np.int64) for name in tagger.inputs})
    graph = (tagger.folder / INT8).read_bytes()
    sessions = {disabled: _session(graph, 1, disabled=disabled) for disabled in FUSION_CHOICES}
    reference = [sessions[()].run(None, feed) for feed in feeds]
    best: dict[tuple[str, ...], float] = dict.fromkeys(sessions, float("inf"))
    for _ in range(rounds):  # configurations interleaved: drifting load hits them alike
        for disabled, session in sessions.items():
            started = time.perf_counter()
            for feed in feeds:
                session.run(None, feed)
            best[disabled] = min(best[disabled], (time.perf_counter() - started) / n_articles)
    rows = {}
    for disabled, session in sessions.items():
        change = max(
            float(np.abs(a - b).max())
            for feed, ref in zip(feeds, reference, strict=True)
            for a, b in zip(ref, session.run(None, feed), strict=True)
        )
        tagger.session = session  # what quality does the rounding cost?
        rows[", ".join(disabled) or "(all optimizers on)"] = {
            "ms_per_article": 1000 * best[disabled],
            "vs_all_on": best[disabled] / best[()],
            "max_output_change": change,
            **ptc_val_f1(analyzer),
        }
    return {
        "bundle": str(bundle),
        "articles": n_articles,
        "words": words,
        "rounds": rounds,
        "machine": {"platform": platform.platform(), "processor": platform.processor()},
        "disabled": rows,
        "op_ms_per_article": op_profile(graph, feeds, n_articles),
    }


def ptc_val_ids(manifest: Any) -> set[str]:
    """The PTC validation articles of the processed dataset."""
    docs = manifest.table("documents")
    return set(docs[(docs["split"] == "val") & (docs["source"] == "ptc")]["document_id"])


def ptc_val_f1(analyzer: Any, names: Sequence[str] = ("si_f1", "flc_f1")) -> dict[str, float]:
    """``names`` metrics of ``analyzer`` on the PTC val articles (the processed dataset)."""
    from mindlens.config import get_settings
    from mindlens.data.dataset import Manifest
    from mindlens.evaluation.evaluate import evaluate_analyzer

    settings = get_settings()
    manifest = Manifest.read(settings.processed_dir)
    val = ptc_val_ids(manifest)
    metrics = evaluate_analyzer(analyzer, manifest, settings, "val", documents=val).metrics
    return {name: metrics[f"val_{name}"] for name in names}


def op_profile(
    graph: bytes,
    feeds: Sequence[dict[str, np.ndarray]],
    n_articles: int,
    disabled: Sequence[str] | None = None,
) -> dict[str, float]:
    """Kernel ms per article by operator type, from ONNX Runtime's own profiler, in the
    served session (``disabled`` optimizers: ``SLOW_FUSIONS`` by default; one thread): where
    the forward pass goes."""
    import tempfile

    from mindlens.models.onnx_tagger import SLOW_FUSIONS, _session

    with tempfile.TemporaryDirectory() as tmp:
        session = _session(
            graph, 1, disabled=SLOW_FUSIONS if disabled is None else disabled, profile_prefix=Path(tmp) / "p"
        )
        for feed in feeds:
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    by_op: dict[str, float] = {}
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            op = event["args"]["op_name"]
            by_op[op] = by_op.get(op, 0.0) + event["dur"] / 1000 / n_articles  # µs -> ms
    return dict(sorted(by_op.items(), key=lambda kv: -kv[1]))


def fusions_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"{result['bundle']} int8 forward, {result['articles']} articles of {result['words']} words, "
        f"one ORT thread, best of {result['rounds']}:",
        "",
        "| optimizers disabled | ms per article | vs all on | max output change | PTC val SI F1 | FLC F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in result["disabled"].items():
        lines.append(
            f"| {name} | {r['ms_per_article']:.1f} | {r['vs_all_on']:.2f} | {r['max_output_change']:.1e} "
            f"| {r['si_f1']:.4f} | {r['flc_f1']:.4f} |"
        )
    ops = result["op_ms_per_article"]
    total = sum(ops.values())
    lines += ["", "| operator (served session) | kernel ms per article | share |", "|---|---|---|"]
    lines += [  # operators under half a per cent of the pass left out
        f"| {op} | {ms:.1f} | {100 * ms / total:.0f} % |" for op, ms in ops.items() if ms >= 0.005 * total
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="folder with torch/ and/or onnx/")
    parser.add_argument(
        "--analyze", type=Path, action="append", default=None, help="analyzer bundle (repeatable)"
    )
    parser.add_argument("--quantization", type=Path, default=None, help="analyzer bundle")
    parser.add_argument("--fusions", type=Path, default=None, help="analyzer bundle: ORT fusions on/off")
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--single", type=int, default=64, help="texts timed one at a time")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads for all paths")
    parser.add_argument("--builtin", action="store_true", help="use the built-in sample, not PTC val")
    parser.add_argument("--peak-size", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    if sum(x is not None for x in (args.model, args.analyze, args.quantization, args.fusions)) != 1:
        parser.error("give one of --model, --analyze, --quantization or --fusions")
    if args.analyze or args.quantization or args.fusions:
        if args.fusions:
            result = fusions_run(args.fusions, min(args.articles, 8), args.words, args.rounds)
            print(fusions_markdown(result))
        elif args.analyze:
            result = analyze_run(args.analyze, args.articles, args.words, args.rounds)
            print(analyze_markdown(result))
        else:
            result = quantization_run(args.quantization)
            print(quantization_markdown(result))
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=2, sort_keys=True))
        return result
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
