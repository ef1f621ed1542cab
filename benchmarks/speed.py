"""Speed against peers: MindLens in-process and over HTTP beside a plain ``transformers``
pipeline, ``mlflow models serve`` of MLflow's ``transformers`` flavour, and the bare encoder
in ONNX fp32 and int8 (the floor for any analyzer on this model), on the same texts, in the
same run, over repeated rounds, with the machine's measured matmul peaks.

Why one run and ratios: CPU timings on a shared machine drift by tens of per cent between
runs, so only paths measured side by side (rounds interleaved, path order rotated) compare;
absolute times are context. See ``benchmarks/README.md``.

    python benchmarks/speed.py [--quick] [--rounds 3] [--out benchmarks/results/speed] [--readme README.md]
    python benchmarks/speed.py --render benchmarks/results/speed.json [--readme README.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_inference import matmul_peak, model_flops
from load import free_port, serve_env, wait_http

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "mindlens.speed/1"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "speed"
README_BEGIN, README_END = "<!-- speed:begin -->", "<!-- speed:end -->"
PATHS = (  # every path, in the order of the table
    "mindlens",
    "mindlens-http",
    "transformers-pipeline",
    "mlflow-serve",
    "onnx-fp32",
    "onnx-int8",
    "champion-int8-graph",
)
SKIPPABLE = ("http", "unbatched", "transformers", "mlflow", "onnx")  # groups --skip accepts
LIBRARIES = (
    "mindlens",
    "numpy",
    "onnxruntime",
    "onnx",
    "tokenizers",
    "torch",
    "transformers",
    "mlflow",
    "fastapi",
    "uvicorn",
    "httpx",
)
# server workloads offered by 1 and 8 clients -> requests per level, in --concurrency-requests:
# headlines are short, so more of them; dynamic batching merges them across requests
CONCURRENCY_WORKLOADS = {"articles": 1, "headlines": 8}
PEER_BATCH = 32  # sentences per pipeline call / per MLflow request: MindLens's own default
TARGETS = {  # issue #14: ratio name -> (comparison, bound)
    "pipeline_over_mindlens_article_p50": (">=", 5.0),
    "mindlens_over_onnx_int8_article_p50": ("<=", 1.3),
    "clients8_over_clients1_requests_per_s": (">=", 1.5),
}


_STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stderr, with the seconds since the start (stdout is the table)."""
    print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# --- texts -------------------------------------------------------------------------------
@dataclass
class Workload:
    """Texts analysed one by one (``unit`` article) or as a stream (``unit`` text); peers
    read each text's sentences as MindLens splits them, the encoders its windows."""

    name: str
    unit: str  # "article": per-text latency; "text": texts/s
    texts: list[str]
    sentences: list[list[str]] = field(default_factory=list)
    windows: list[list[dict[str, Any]]] = field(default_factory=list)
    source: str = ""

    def all_sentences(self) -> list[str]:
        return [s for per_text in self.sentences for s in per_text]

    def all_windows(self) -> list[dict[str, Any]]:
        return [w for per_text in self.windows for w in per_text]


def _words(text: str) -> int:
    return len(text.split())


def _servable(text: str) -> bool:
    """Whether the API accepts the text (a few PTC articles hold stray C1 control
    characters, which ``/analyze`` refuses with 422): every path reads the same texts."""
    from mindlens.preprocessing.hygiene import text_problem

    return text_problem(text) is None


def load_articles(data_dir: Path, n: int, words: int, seed: int = 0) -> list[str]:
    """``n`` PTC training articles of at least ``words`` words (a fixed random choice), each
    cut after the line that brings it closest to ``words`` words; the title stays first."""
    from mindlens.data.sources.ptc import ROOT as PTC_ROOT
    from mindlens.data.sources.ptc import read_article

    folder = data_dir / PTC_ROOT / "train-articles"
    paths = sorted(folder.glob("article*.txt"))
    if not paths:
        raise SystemExit(f"no PTC articles under {folder}: set MINDLENS_DATA_DIR")
    long_enough = [p for p in paths if _words(read_article(p)) >= words and _servable(read_article(p))]
    if len(long_enough) < n:
        raise SystemExit(f"only {len(long_enough)} PTC articles have {words} words; ask for fewer")
    chosen = sorted(random.Random(seed).sample(long_enough, n))
    articles = []
    for path in chosen:
        kept: list[str] = []
        count = 0
        for line in read_article(path).lstrip("\ufeff").splitlines():
            if count >= words:
                break
            if count and abs(count + _words(line) - words) > abs(count - words):
                break
            kept.append(line)
            count += _words(line)
        articles.append("\n".join(kept).strip())
    return articles


def load_headlines(data_dir: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` headlines, clickbait and not, drawn at random from the clickbait data set."""
    from mindlens.data.sources.clickbait import FILES, FOLDER, read_headlines

    lines = [h for name in FILES.values() for h in read_headlines(data_dir / FOLDER / "dataset" / name)]
    lines = [h for h in lines if _servable(h)]
    return random.Random(seed).sample(lines, n)


def load_sentences(data_dir: Path, n: int, exclude: set[str], seed: int = 0) -> list[str]:
    """``n`` sentences of at least four words from PTC articles not used as articles."""
    from mindlens.data.sources.ptc import ROOT as PTC_ROOT
    from mindlens.data.sources.ptc import read_article
    from mindlens.preprocessing.sentences import split_sentences

    pool = []
    for path in sorted((data_dir / PTC_ROOT / "train-articles").glob("article*.txt")):
        text = read_article(path)
        if text.strip()[:200] not in exclude:
            pool += [s.text for s in split_sentences(text) if _words(s.text) >= 4 and _servable(s.text)]
    return random.Random(seed).sample(pool, n)


def build_workloads(analyzer: Any, data_dir: Path, args: argparse.Namespace) -> list[Workload]:
    """The three workloads, split and windowed exactly as the champion splits and windows."""
    from mindlens.models.windows import neighbours
    from mindlens.preprocessing.sentences import split_sentences

    articles = load_articles(data_dir, args.articles, args.words)
    workloads = [
        Workload("articles", "article", articles, source=f"PTC train articles, ~{args.words} words"),
        Workload("headlines", "text", load_headlines(data_dir, args.headlines), source="stop-clickbait"),
        Workload(
            "sentences",
            "text",
            load_sentences(data_dir, args.sentences, {a.strip()[:200] for a in articles}),
            source="PTC train sentences (other articles)",
        ),
    ]
    span_model = analyzer.require_span_model()
    for workload in workloads:
        for text in workload.texts:
            sentences = [s.text for s in split_sentences(text)]
            workload.sentences.append(sentences)
            workload.windows.append(
                span_model._windows(sentences, span_model._check_contexts(sentences, neighbours(sentences)))
            )
    return workloads


# --- the paths -----------------------------------------------------------------------------
class Runner:
    """One way to analyse the workloads: ``one`` runs a single text of a workload (articles
    are timed one by one), ``stream`` a whole workload (texts/s)."""

    name = ""
    precision = "fp32"
    what = ""

    def one(self, workload: Workload, index: int) -> None:
        raise NotImplementedError

    def stream(self, workload: Workload) -> None:
        for index in range(len(workload.texts)):
            self.one(workload, index)


class MindLens(Runner):
    name, precision = "mindlens", "int8"

    def __init__(self, analyzer: Any, bundle: Path) -> None:
        self.analyzer = analyzer
        self.what = f"`Analyzer.analyze` in-process, bundle {analyzer.name} ({_rel(bundle)})"

    def one(self, workload: Workload, index: int) -> None:
        self.analyzer.analyze(workload.texts[index])


class MindLensHttp(Runner):
    name, precision = "mindlens-http", "int8"

    def __init__(self, base: str, model: str, batch: int) -> None:
        self.base, self.batch = base, batch
        self.client = httpx.Client(timeout=120)
        self.what = f"`POST /analyze` (streams: `/analyze/batch` of {batch}) on `mindlens serve`, {model}"

    def one(self, workload: Workload, index: int) -> None:
        self.client.post(f"{self.base}/analyze", json={"text": workload.texts[index]}).raise_for_status()

    def stream(self, workload: Workload) -> None:
        for begin in range(0, len(workload.texts), self.batch):
            texts = workload.texts[begin : begin + self.batch]
            self.client.post(f"{self.base}/analyze/batch", json={"texts": texts}).raise_for_status()


class Pipeline(Runner):
    name, precision = "transformers-pipeline", "fp32"

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe
        self.what = (
            "`transformers` token-classification pipeline, PyTorch fp32, "
            f"each text's sentences in batches of {PEER_BATCH}"
        )

    def one(self, workload: Workload, index: int) -> None:
        self.pipe(workload.sentences[index], batch_size=PEER_BATCH)

    def stream(self, workload: Workload) -> None:
        self.pipe(workload.all_sentences(), batch_size=PEER_BATCH)


class MlflowServe(Runner):
    name, precision = "mlflow-serve", "fp32"

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = httpx.Client(timeout=120)
        self.what = (
            "the same pipeline in MLflow's `transformers` flavour, `mlflow models serve --env-manager local`; "
            f"`POST /invocations` with a text's sentences (streams: {PEER_BATCH} per request)"
        )

    def _post(self, sentences: list[str]) -> None:
        self.client.post(f"{self.base}/invocations", json={"inputs": sentences}).raise_for_status()

    def one(self, workload: Workload, index: int) -> None:
        self._post(workload.sentences[index])

    def stream(self, workload: Workload) -> None:
        sentences = workload.all_sentences()
        for begin in range(0, len(sentences), PEER_BATCH):
            self._post(sentences[begin : begin + PEER_BATCH])


class OnnxGraph(Runner):
    """An ONNX graph on the champion's own windows, batched by length (``batch`` windows),
    nothing else: no tokenisation, no decoding. The lower bound for any analyzer."""

    def __init__(self, name: str, precision: str, path: Path, batch: int, what: str) -> None:
        import onnxruntime as ort

        self.name, self.precision, self.batch = name, precision, batch
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.what = f"{what}; length-sorted batches of {batch} windows"

    def run_windows(self, windows: list[dict[str, Any]]) -> None:
        from mindlens.models.windows import pad_windows

        order = sorted(windows, key=lambda w: len(w["input_ids"]))
        for begin in range(0, len(order), self.batch):
            batch = pad_windows(order[begin : begin + self.batch], "type_ids" in order[0])
            if "token_type_ids" in self.inputs and "token_type_ids" not in batch:
                batch["token_type_ids"] = np.zeros_like(batch["input_ids"])
            self.session.run(None, {name: batch[name] for name in self.inputs})

    def one(self, workload: Workload, index: int) -> None:
        self.run_windows(workload.windows[index])

    def stream(self, workload: Workload) -> None:
        self.run_windows(workload.all_windows())


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- the peer model: the champion's architecture, the packaged MiniLM weights ---------------
def peer_model(encoder_dir: Path, labels: Sequence[str]) -> tuple[Any, Any]:
    """The MiniLM encoder with a token-classification head of the champion's label count,
    randomly initialised (seed 0): the same compute as the champion's encoder, no trained
    fp32 weights of it exist."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(
        str(encoder_dir),
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    ).eval()
    return model, AutoTokenizer.from_pretrained(str(encoder_dir))


def export_encoder(model: Any, folder: Path) -> tuple[Path, Path]:
    """fp32 ONNX (TorchScript exporter, opset 17) and its dynamic int8 quantization (per
    channel), as ``mindlens.models.onnx_tagger.export_onnx`` makes the champion's. Traced on a
    padded batch and checked against torch on another shape: a trace that dropped the
    attention mask or baked in a shape would time the wrong graph."""
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32, int8 = folder / "encoder.fp32.onnx", folder / "encoder.int8.onnx"
    ids = torch.randint(1000, 20000, (2, 16), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "logits")},
            dynamo=False,
            opset_version=17,
            do_constant_folding=True,
        )
    model.eval()  # exporting can leave a module in training mode
    session = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    for batch_ids, batch_mask in ((ids, mask), (ids[1:, :9], mask[1:, :9])):
        with torch.inference_mode():
            expected = model(input_ids=batch_ids, attention_mask=batch_mask).logits.numpy()
        got = session.run(None, {"input_ids": batch_ids.numpy(), "attention_mask": batch_mask.numpy()})[0]
        worst = float(np.abs(expected - got).max())
        if worst > 1e-4:
            raise RuntimeError(
                f"the peer's ONNX export differs from torch by {worst:.1e} on {tuple(batch_ids.shape)}"
            )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def save_mlflow_model(pipe: Any, folder: Path) -> Path:
    """The pipeline in MLflow's ``transformers`` flavour (the folder ``log_model`` uploads),
    calling the pipeline with the same batch size as the plain pipeline path (the flavour's
    default is one sentence per forward pass)."""
    import mlflow

    path = folder / "mlflow-model"
    mlflow.transformers.save_model(
        transformers_model=pipe,
        path=str(path),
        task="token-classification",
        model_config={"batch_size": PEER_BATCH},
        # given, not inferred: inference asks for torchvision; --env-manager local uses this venv
        pip_requirements=[
            f"{name}=={metadata.version(name)}" for name in ("mlflow", "transformers", "torch")
        ],
    )
    return path


# --- servers --------------------------------------------------------------------------------
def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> None:
    try:
        wait_http(url, process, timeout)
    except RuntimeError:
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{url}: the server exited with {process.returncode}:\n{tail}") from None
    except TimeoutError:
        raise SystemExit(f"{url} was not ready within {timeout:.0f} s (log: {log})") from None


def spawn(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A server in its own process group (so stopping it stops what it spawned)."""
    handle = open(log, "wb")
    return subprocess.Popen(
        ["bash", "-c", command],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def concurrency(url: str, payloads: list[Any], clients: int, requests: int) -> dict[str, Any]:
    """``requests`` POSTs from ``clients`` concurrent clients (payloads cycled): served
    requests/s, latency of the answered ones, and how many the server refused (503)."""
    local = threading.local()

    def one(i: int) -> tuple[float, int]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=120)
        started = time.perf_counter()
        status = local.client.post(url, json=payloads[i % len(payloads)]).status_code
        return time.perf_counter() - started, status

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(clients)))  # warm-up: a connection per client
        started = time.perf_counter()
        answers = list(pool.map(one, range(requests)))
        wall = time.perf_counter() - started
    ok = [s for s, status in answers if status == 200]
    unexpected = sorted({status for _, status in answers if status not in (200, 503)})
    if unexpected:
        raise SystemExit(f"{url}: unexpected HTTP status {unexpected} under {clients} clients")
    return {
        "clients": clients,
        "requests": requests,
        "served": len(ok),
        "refused_503": requests - len(ok),
        "requests_per_s": len(ok) / wall,
        **_percentiles(ok),
    }


# --- peaks and the machine ------------------------------------------------------------------
def int8_peak(size: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` rate of ONNX Runtime's ``MatMulInteger`` (uint8 × int8 constant
    weights -> int32), size³ multiply-adds = 2·size³ operations, in GOP/s."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = numpy_helper.from_array(rng.integers(-128, 128, (size, size), dtype=np.int8), "B")
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "B"], ["Y"])],
        "matmul_integer",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [size, size])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [size, size])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {"A": rng.integers(0, 256, (size, size), dtype=np.uint8)}
    session.run(None, feed)
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, feed)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def machine() -> dict[str, Any]:
    """CPU model, cores, the CPU features int8 kernels use, load, libraries, commit."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M)
    have = set(flags.group(1).split()) if flags else set()
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cpu_model": model.group(1).strip() if model else platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_features": sorted(have & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "amx_tile"}),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": versions,
        "git_commit": commit.stdout.strip() or None,
        "git_dirty": bool(dirty.stdout.strip()),
        "loadavg_start": list(os.getloadavg()),
    }


# --- measuring ------------------------------------------------------------------------------
def _percentiles(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {"p50_ms": float("nan"), "p95_ms": float("nan")}
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def measure(paths: list[Runner], workloads: list[Workload], rounds: int) -> dict[str, dict[str, Any]]:
    """Every path on every workload, ``rounds`` times, path order rotated each round so no
    path always runs first or last; one untimed warm-up pass per path first."""
    for path in paths:
        for workload in workloads:
            path.one(workload, 0)
    samples: dict[str, dict[str, list[Any]]] = {p.name: {w.name: [] for w in workloads} for p in paths}
    for r in range(rounds):
        for path in paths[r % len(paths) :] + paths[: r % len(paths)]:
            say(f"round {r + 1}/{rounds}: {path.name}")
            for workload in workloads:
                if workload.unit == "article":
                    times = []
                    for index in range(len(workload.texts)):
                        started = time.perf_counter()
                        path.one(workload, index)
                        times.append(time.perf_counter() - started)
                    samples[path.name][workload.name].append(times)
                else:
                    started = time.perf_counter()
                    path.stream(workload)
                    samples[path.name][workload.name].append(time.perf_counter() - started)
    results: dict[str, dict[str, Any]] = {}
    for path in paths:
        entry: dict[str, Any] = {"what": path.what, "precision": path.precision}
        for workload in workloads:
            got = samples[path.name][workload.name]
            if workload.unit == "article":
                pooled = [t for per_round in got for t in per_round]
                entry[workload.name] = {
                    **_percentiles(pooled),
                    "mean_ms": 1000 * float(np.mean(pooled)),
                    "round_p50_ms": [_percentiles(per_round)["p50_ms"] for per_round in got],
                    "round_seconds": [float(sum(per_round)) for per_round in got],
                }
            else:
                rates = [len(workload.texts) / seconds for seconds in got]
                entry[workload.name] = {"texts_per_s": float(np.median(rates)), "round_texts_per_s": rates}
        results[path.name] = entry
    return results


def add_efficiency(results: dict[str, dict[str, Any]], article_flops: float, peaks: dict[str, float]) -> None:
    """Each path's arithmetic rate on the articles (the encoder's FLOPs over the article
    windows / median round time) as a share of the peak of its own precision."""
    for entry in results.values():
        seconds = float(np.median(entry["articles"]["round_seconds"]))
        rate = article_flops / seconds / 1e9
        entry["articles"]["gflops"] = rate
        entry["articles"]["pct_of_peak"] = 100 * rate / peaks[entry["precision"]]


def ratios(results: dict[str, dict[str, Any]], server: dict[str, Any]) -> dict[str, Any]:
    """The comparisons the issue asks for, from this run only (None when a path was skipped)."""

    def p50(name: str) -> float | None:
        return results[name]["articles"]["p50_ms"] if name in results else None

    def div(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    def rate(name: str, workload: str) -> float | None:
        return results[name][workload]["texts_per_s"] if name in results else None

    out: dict[str, Any] = {
        "pipeline_over_mindlens_article_p50": div(p50("transformers-pipeline"), p50("mindlens")),
        "mlflow_over_mindlens_article_p50": div(p50("mlflow-serve"), p50("mindlens")),
        "mindlens_over_onnx_int8_article_p50": div(p50("mindlens"), p50("onnx-int8")),
        "mindlens_over_champion_graph_article_p50": div(p50("mindlens"), p50("champion-int8-graph")),
        "mindlens_http_over_inprocess_article_p50": div(p50("mindlens-http"), p50("mindlens")),
        "onnx_fp32_over_int8_article_p50": div(p50("onnx-fp32"), p50("onnx-int8")),
        "mindlens_over_pipeline_headlines_per_s": div(
            rate("mindlens", "headlines"), rate("transformers-pipeline", "headlines")
        ),
        "mindlens_over_pipeline_sentences_per_s": div(
            rate("mindlens", "sentences"), rate("transformers-pipeline", "sentences")
        ),
    }
    for workload, suffix in (("articles", ""), ("headlines", "_headlines")):
        levels = _levels(server, "mindlens-http", workload)
        if 1 in levels and 8 in levels:
            out[f"clients8_over_clients1{suffix}_requests_per_s"] = div(
                levels[8]["requests_per_s"], levels[1]["requests_per_s"]
            )
        unbatched = _levels(server, "mindlens-http-unbatched", workload)
        if 1 in unbatched and 8 in unbatched:
            out[f"unbatched_clients8_over_clients1{suffix}_requests_per_s"] = div(
                unbatched[8]["requests_per_s"], unbatched[1]["requests_per_s"]
            )
            if 8 in levels:
                out[f"batched_over_unbatched_clients8{suffix}_requests_per_s"] = div(
                    levels[8]["requests_per_s"], unbatched[8]["requests_per_s"]
                )
    return out


def _levels(server: dict[str, Any], name: str, workload: str) -> dict[int, dict[str, Any]]:
    """One server's concurrency levels for one workload, by client count (levels without a
    workload come from runs that offered articles only)."""
    return {c["clients"]: c for c in server.get(name, []) if c.get("workload", "articles") == workload}


def targets(values: dict[str, Any]) -> dict[str, Any]:
    checks = {}
    for name, (op, bound) in TARGETS.items():
        value = values.get(name)
        met = None if value is None else (value >= bound if op == ">=" else value <= bound)
        checks[name] = {"value": value, "target": f"{op} {bound:g}", "met": met}
    return checks


# --- the run --------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    from mindlens.config import get_settings
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.backbones import resolve_backbone
    from mindlens.models.onnx_tagger import INT8
    from mindlens.training.release import SHIPPED_RELEASES

    skip = set(args.skip)
    info = machine()
    bundle = Path(args.bundle or SHIPPED_RELEASES[-1])
    analyzer = Analyzer.load(bundle)
    span_model = analyzer.require_span_model()
    labels = list(span_model.labels)
    encoder_dir = Path(args.encoder or resolve_backbone(span_model.config.backbone))
    say("texts and windows")
    workloads = build_workloads(analyzer, Path(get_settings().data_dir), args)

    paths: list[Runner] = [MindLens(analyzer, bundle)]
    server_levels: dict[str, list[dict[str, Any]]] = {}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mindlens-speed-")))
        servers: dict[str, tuple[str, subprocess.Popen[bytes], Path]] = {}
        if "http" not in skip:  # the bundle registered and served, while the peers are prepared below
            variants: dict[str, dict[str, str]] = {"mindlens-http": {}}  # as shipped: dynamic batching on
            if "unbatched" not in skip:  # the same server with each request running the network itself
                variants["mindlens-http-unbatched"] = {"dynamic_batching": "false"}
            for name, overrides in variants.items():
                state = (Path(args.state_dir) if args.state_dir else work / "state") / name
                port = free_port()
                py = shlex.quote(sys.executable)
                # no per-address rate limit (every client here is 127.0.0.1), no registry polling
                env = serve_env(state, prediction_log="false", **overrides) | {
                    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
                }
                command = (
                    f"{py} -m mindlens.cli registry bootstrap --release {shlex.quote(str(bundle))} >/dev/null && "
                    f"exec {py} -m mindlens.cli serve --host 127.0.0.1 --port {port}"
                )
                log = work / f"{name}.log"
                process = spawn(command, env, log)
                stack.callback(stop, process)
                servers[name] = (f"http://127.0.0.1:{port}", process, log)

        model = tokenizer = pipe = None
        if not {"transformers", "mlflow", "onnx"} <= skip:
            say("peer model")
            model, tokenizer = peer_model(encoder_dir, labels)
        if model is not None and not {"transformers", "mlflow"} <= skip:
            from transformers import pipeline

            pipe = pipeline("token-classification", model=model, tokenizer=tokenizer, device=-1)
        if "mlflow" not in skip:
            say("saving the peer with mlflow.transformers")
            model_path = save_mlflow_model(pipe, work)
            port = free_port()
            mlflow_cli = shlex.quote(str(Path(sys.executable).with_name("mlflow")))
            command = (
                f"exec {mlflow_cli} models serve -m {shlex.quote(str(model_path))} --env-manager local "
                f"-h 127.0.0.1 -p {port} -w 1"
            )
            log = work / "mlflow-serve.log"
            venv_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
            env = os.environ | {"PATH": venv_path}  # mlflow execs uvicorn
            process = spawn(command, env, log)
            stack.callback(stop, process)
            servers["mlflow-serve"] = (f"http://127.0.0.1:{port}", process, log)
        if "transformers" not in skip:
            paths.append(Pipeline(pipe))
        if "onnx" not in skip:
            say("exporting the peer encoder to ONNX")
            fp32, int8 = export_encoder(model, work)
            peer = f"bare {encoder_dir.parent.name} encoder + random head"
            paths.append(OnnxGraph("onnx-fp32", "fp32", fp32, args.encoder_batch, f"{peer}, ONNX fp32"))
            paths.append(
                OnnxGraph(
                    "onnx-int8", "int8", int8, args.encoder_batch, f"{peer}, ONNX dynamic int8 per channel"
                )
            )
            graph = Path(span_model.folder) / INT8
            paths.append(
                OnnxGraph(
                    "champion-int8-graph",
                    "int8",
                    graph,
                    args.encoder_batch,
                    f"the bundle's own `{_rel(graph)}`",
                )
            )
        del model  # the pipeline keeps its own reference
        for name in ("mindlens-http", "mindlens-http-unbatched"):
            if name in servers:
                base, process, log = servers[name]
                say(f"waiting for {name}")
                wait_ready(f"{base}/readyz", process, log)
        if "mindlens-http" in servers:
            base, process, log = servers["mindlens-http"]
            served = httpx.get(f"{base}/version").json()
            if served.get("semver") != analyzer.metadata.get("version"):
                raise SystemExit(
                    f"the server serves release {served.get('semver')}, not the bundle measured "
                    f"in-process ({analyzer.metadata.get('version')}); is --state-dir's champion another?"
                )
            model_ref = f"champion v{served['model']['version']} = release {served['semver']}"
            paths.append(MindLensHttp(base, model_ref, args.http_batch))
        if "mlflow-serve" in servers:
            base, process, log = servers["mlflow-serve"]
            say("waiting for mlflow models serve")
            wait_ready(f"{base}/ping", process, log)
            paths.append(MlflowServe(base))

        say("measuring the matmul peaks")
        peaks = {"fp32": matmul_peak(args.peak_size), "int8": int8_peak(args.peak_size)}
        paths.sort(key=lambda p: PATHS.index(p.name))
        results = measure(paths, workloads, args.rounds)
        for name, (base, _, _) in servers.items():
            ours = name.startswith("mindlens-http")
            endpoint = "/analyze" if ours else "/invocations"
            server_levels[name] = []
            for workload in (w for w in workloads if w.name in CONCURRENCY_WORKLOADS):
                payloads = (
                    [{"text": t} for t in workload.texts]
                    if ours
                    else [{"inputs": s} for s in workload.sentences]
                )
                requests = args.concurrency_requests * CONCURRENCY_WORKLOADS[workload.name]
                say(f"{name}: {workload.name}, 1 and 8 concurrent clients")
                server_levels[name] += [
                    {
                        "workload": workload.name,
                        **concurrency(f"{base}{endpoint}", payloads, clients, requests),
                    }
                    for clients in (1, 8)
                ]

    encoder_config = json.loads((encoder_dir / "config.json").read_text())
    per_workload = {}
    for workload in workloads:
        lengths = [len(w["input_ids"]) for w in workload.all_windows()]
        flops = model_flops(encoder_config, len(labels), lengths)
        n = len(workload.texts)
        per_workload[workload.name] = {
            "source": workload.source,
            "unit": workload.unit,
            "texts": n,
            "words_mean": float(np.mean([_words(t) for t in workload.texts])),
            "words_min": min(_words(t) for t in workload.texts),
            "words_max": max(_words(t) for t in workload.texts),
            "sentences": sum(len(s) for s in workload.sentences),
            "windows": len(lengths),
            "tokens": int(sum(lengths)),
            "gflop": flops["total_flops"] / 1e9,
            "gflop_per_text": flops["total_flops"] / 1e9 / n,
            "bound_ms_per_text_int8": 1000 * flops["total_flops"] / n / (peaks["int8"] * 1e9),
            "bound_ms_per_text_fp32": 1000 * flops["total_flops"] / n / (peaks["fp32"] * 1e9),
        }
    add_efficiency(results, per_workload["articles"]["gflop"] * 1e9, peaks)
    values = ratios(results, server_levels)
    info["loadavg_end"] = list(os.getloadavg())
    info["fp32_peak_gflops"] = peaks["fp32"]
    info["int8_peak_gops"] = peaks["int8"]
    info["peak_method"] = (
        f"fp32: numpy float32 {args.peak_size}x{args.peak_size} matmul (sgemm); int8: onnxruntime "
        f"MatMulInteger uint8x{args.peak_size}x{args.peak_size} int8 constant weights; best of 5, "
        "2n^3 operations, default threads"
    )
    return {
        "schema": SCHEMA,
        "command": "python benchmarks/speed.py " + " ".join(shlex.quote(a) for a in args.argv),
        "quick": args.quick,
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rounds": args.rounds,
        "machine": info,
        "model": {
            "bundle": _rel(bundle),
            "name": analyzer.name,
            "version": analyzer.metadata.get("version"),
            "labels": len(labels),
            "backbone": span_model.config.backbone,
            "max_length": span_model.config.max_length,
            "peer_encoder": _rel(encoder_dir),
            "peer_note": (
                f"No fp32 weights of the champion exist: the transformers, MLflow and bare ONNX peers "
                f"run {encoder_dir.parent.name} (the champion's encoder architecture and tokenizer "
                f"vocabulary) with a randomly initialised token-classification head of {len(labels)} "
                "labels; identical compute, meaningless outputs"
            ),
            "flops_method": model_flops(encoder_config, len(labels), [1])["method"],
        },
        "workloads": per_workload,
        "paths": results,
        "server_concurrency": server_levels,
        "ratios": values,
        "targets": targets(values),
        "skipped": sorted(skip),
    }


# --- output -------------------------------------------------------------------------------
def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:,.{digits}f}"


def markdown(result: dict[str, Any]) -> str:
    """The README table: paths, ratios with targets, server concurrency, context."""
    m, w = result["machine"], result["workloads"]
    art = w["articles"]
    lines = [
        (
            f"{art['texts']} PTC articles of ~{art['words_mean']:.0f} words ({art['sentences'] / art['texts']:.0f} "
            f"sentences, {art['tokens'] / art['texts']:.0f} tokens, {art['gflop_per_text']:.1f} GFLOP each), "
            f"{w['headlines']['texts']} headlines, {w['sentences']['texts']} sentences; "
            f"{result['rounds']} rounds, {m['cpu_model']}, {m['cores_usable']} cores, "
            f"load {m['loadavg_start'][0]:.1f} at the start (→ {m['loadavg_end'][0]:.1f} at the end, "
            "the run's own threads and servers included)"
            + (
                " (**busy machine**: other work had the cores busy when the run began, so the "
                "timings are contended and the ratios uncertain)"
                if m["loadavg_start"][0] > m["cores_usable"] / 2
                else ""
            )
            + (" (**--quick**: tiny inputs, not for comparison)" if result["quick"] else "")
        ),
        "",
        "| path | what | precision | article p50 ms | article p95 ms | headlines/s | sentences/s "
        "| article GFLOP/s | % of peak |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in PATHS:
        if name not in result["paths"]:
            continue
        r = result["paths"][name]
        a = r["articles"]
        lines.append(
            f"| {name} | {r['what']} | {r['precision']} | {_f(a['p50_ms'])} | {_f(a['p95_ms'])} "
            f"| {_f(r['headlines']['texts_per_s'])} | {_f(r['sentences']['texts_per_s'])} "
            f"| {_f(a['gflops'])} | {_f(a['pct_of_peak'])} |"
        )
    lines += [
        "",
        f"Peaks: fp32 {_f(m['fp32_peak_gflops'], 0)} GFLOP/s, int8 {_f(m['int8_peak_gops'], 0)} GOP/s "
        f'({m["peak_method"]}); "% of peak" is against the path\'s own precision. At the int8 peak '
        f"an article's encoder FLOPs take {art['bound_ms_per_text_int8']:.1f} ms "
        f"(fp32: {art['bound_ms_per_text_fp32']:.1f} ms).",
        "",
        "| ratio (same run) | value | target |",
        "|---|---|---|",
    ]
    checks = result["targets"]
    for name, value in sorted(result["ratios"].items()):  # the same order after a JSON round trip
        target = ""
        if name in checks and checks[name]["met"] is not None:
            target = f"{checks[name]['target']} ({'met' if checks[name]['met'] else 'not met'})"
        lines.append(f"| {name} | {_f(value, 2)} | {target} |")
    if result["server_concurrency"]:
        lines += [
            "",
            "| server | workload | clients | requests | served req/s | p50 ms | p95 ms | refused (503) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, levels in result["server_concurrency"].items():
            for c in levels:
                lines.append(
                    f"| {name} | {c.get('workload', 'articles')} | {c['clients']} | {c['requests']} "
                    f"| {_f(c['requests_per_s'], 2)} "
                    f"| {_f(c['p50_ms'])} | {_f(c['p95_ms'])} | {c['refused_503']} |"
                )
    lines += ["", result["model"]["peer_note"] + "."]
    return "\n".join(lines)


def update_readme(readme: Path, table: str, command: str) -> None:
    """Replace what lies between the speed markers (inside ``## Benchmark``) with ``table``."""
    text = readme.read_text()
    if README_BEGIN not in text or README_END not in text:
        raise SystemExit(f"{readme}: no {README_BEGIN} ... {README_END} markers to replace")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    body = f"{README_BEGIN}\n<!-- generated by `{command}`; do not edit by hand -->\n{table}\n{README_END}"
    readme.write_text(head + body + tail)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs (< 2 min); defaults below shrink")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--articles", type=int, default=None, help="articles (default 16; quick 3)")
    parser.add_argument("--words", type=int, default=600, help="words per article")
    parser.add_argument("--headlines", type=int, default=None, help="default 128; quick 16")
    parser.add_argument("--sentences", type=int, default=None, help="default 128; quick 16")
    parser.add_argument(
        "--concurrency-requests", type=int, default=None, help="per level; default 24, quick 8"
    )
    parser.add_argument("--encoder-batch", type=int, default=8, help="windows per batch for the ONNX graphs")
    parser.add_argument("--http-batch", type=int, default=32, help="texts per /analyze/batch request")
    parser.add_argument(
        "--peak-size", type=int, default=None, help="matmul size for the peaks (2048; quick 1024)"
    )
    parser.add_argument("--bundle", type=Path, default=None, help="analyzer bundle (default: newest shipped)")
    parser.add_argument(
        "--encoder", type=Path, default=None, help="peer encoder folder (default: the backbone's)"
    )
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="state folder for the server (default: temp)"
    )
    parser.add_argument(
        "--skip", default="", help=f"comma-separated groups to leave out: {','.join(SKIPPABLE)}"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="writes OUT.json and OUT.md (default benchmarks/results/speed, quick: speed-quick)",
    )
    parser.add_argument("--readme", type=Path, default=None, help="replace the speed table in this README")
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        help="measure nothing: write OUT.md (and --readme) from this JSON",
    )
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    small = args.quick
    args.articles = (3 if small else 16) if args.articles is None else args.articles
    args.headlines = (16 if small else 128) if args.headlines is None else args.headlines
    args.sentences = (16 if small else 128) if args.sentences is None else args.sentences
    args.concurrency_requests = (
        (8 if small else 24) if args.concurrency_requests is None else args.concurrency_requests
    )
    args.peak_size = (1024 if small else 2048) if args.peak_size is None else args.peak_size
    if args.render:
        args.out = args.out or args.render.with_suffix("")
    args.out = args.out or DEFAULT_OUT.with_name("speed-quick" if small else "speed")
    args.skip = [s for s in args.skip.split(",") if s]
    bad = [s for s in args.skip if s not in SKIPPABLE]
    if bad:
        parser.error(f"--skip: unknown {bad}; choose from {','.join(SKIPPABLE)}")
    if args.rounds < 3:
        parser.error("--rounds must be at least 3 (the comparison needs repeated rounds)")
    for name in (
        "articles",
        "headlines",
        "sentences",
        "concurrency_requests",
        "encoder_batch",
        "http_batch",
        "words",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.readme and args.quick:
        parser.error("--readme takes a full run, not --quick")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    import signal

    args = parse(argv)
    # a TERM (timeout, CI cancel) unwinds like Ctrl-C, so the servers this run started stop too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.render:
        result = json.loads(args.render.read_text())
        if result.get("schema") != SCHEMA:
            raise SystemExit(f"{args.render} is not a {SCHEMA} result")
        if args.readme and result["quick"]:
            raise SystemExit("--readme takes a full run, not a --quick one")
    else:
        result = run(args)
    table = markdown(result)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not args.render:
        args.out.with_suffix(".json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    args.out.with_suffix(".md").write_text(table + "\n")
    if args.readme:
        update_readme(args.readme, table, result["command"])
    return result


if __name__ == "__main__":
    main()
