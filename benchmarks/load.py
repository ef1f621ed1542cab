"""Capacity curve of a real `mindlens serve`: measure what it sustains, then offer open-loop
load at multiples of that and report what was served, how fast, and what was refused.

    python benchmarks/load.py [--url http://127.0.0.1:8000 --pid PID] [--factors 0.5 1 1.5 2 3]
        [--step-seconds 20] [--capacity-seconds 15] [--out reports/load]

Without ``--url`` it bootstraps the shipped champion into a fresh state folder (what
``mindlens registry bootstrap`` does) and starts ``mindlens serve`` on a free loopback port,
with the per-address limit off (every request comes from 127.0.0.1, so it would be measured
instead of admission control) and the prediction log on. Texts: PTC training articles from
``MINDLENS_DATA_DIR`` (article length, cut to the server's 20,000-character limit), or the
demo's four examples when the data is absent.

Open loop: requests leave on a fixed schedule whatever the answers do (a closed loop slows
down with the server and hides queueing). Per step: offered and served requests/s, p50/p99
latency of the accepted (200) answers, the refused (503/429) answers and their latency, other
answers and transport errors, ``/healthz`` p50/p99/max polled every 100 ms on its own
connection, the server's RSS (start, peak, end) and the machine's load average (on a shared
machine the capacity moves with it). Every step is bounded by
``--step-seconds`` and ``--max-requests``; a request gives up after ``--timeout`` seconds.
Prints a Markdown table and writes ``OUT.json`` and ``OUT.md``. ``tests/reliability``
imports this file for its overload test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = Path("ptc-semeval2020-task11") / "datasets" / "train-articles"
MAX_CHARS = 20000  # serving.max_text_chars' default
REFUSED = (429, 503)


def article_texts(count: int = 64, max_chars: int = MAX_CHARS) -> list[str]:
    """``count`` PTC training articles (sorted by name: the same texts every run), each cut to
    ``max_chars`` at a line break; the demo's examples when the data is not there."""
    folder = Path(os.environ.get("MINDLENS_DATA_DIR", ROOT.parent / "shared" / "datasets")) / ARTICLES
    files = sorted(folder.glob("article*.txt"))[:count] or sorted((ROOT / "demo" / "examples").glob("*.txt"))
    texts = []
    for file in files:
        text = file.read_text(encoding="utf-8").strip()
        if len(text) > max_chars:
            text = text[: text.rfind("\n", 0, max_chars) if "\n" in text[:max_chars] else max_chars]
        if text.strip():
            texts.append(text)
    if not texts:
        raise SystemExit(f"no texts: neither {folder} nor demo/examples holds any")
    return texts


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of ``pid`` in MB (None when unknown or gone)."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bootstrap(env: dict[str, str], releases: list[Path] | None = None) -> None:
    """``mindlens registry bootstrap`` into ``env``'s state folder (the shipped champion)."""
    command = [sys.executable, "-m", "mindlens.cli", "registry", "bootstrap"]
    for release in releases or []:
        command += ["--release", str(release)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"registry bootstrap failed:\n{done.stdout}\n{done.stderr}")


def wait_http(url: str, process: subprocess.Popen | None = None, timeout_s: float = 180) -> None:
    """Until ``url`` answers 200; RuntimeError when ``process`` exits first, TimeoutError
    after ``timeout_s`` (the one wait loop of the benchmarks and docs/capture.py)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s:g} s")


def wait_ready(base: str, process: subprocess.Popen | None = None, timeout_s: float = 180) -> None:
    """Until ``/readyz`` says a model is served (a load test of a server without one is moot)."""
    wait_http(f"{base}/readyz", process, timeout_s)


@dataclass
class Server:
    base: str
    pid: int | None = None  # for its RSS


def serve_env(state_dir: Path, **serving: str) -> dict[str, str]:
    """The environment of a load-tested server: its own state folder, no per-address limit,
    no background registry polling; ``serving`` adds MINDLENS_SERVING__<KEY> settings."""
    env = os.environ | {
        "MINDLENS_STATE_DIR": str(state_dir),
        "MINDLENS_SERVING__RELOAD_INTERVAL_S": "0",
        "MINDLENS_SERVING__ANALYZE_RATE_LIMIT_PER_MINUTE": "0",
        "MINDLENS_MONITORING__LOG_FORMAT": "text",
    }
    return env | {f"MINDLENS_SERVING__{key.upper()}": value for key, value in serving.items()}


@contextmanager
def served(env: dict[str, str], log_path: Path, port: int | None = None) -> Iterator[Server]:
    """``mindlens serve`` on 127.0.0.1 over ``env``'s (bootstrapped) state folder, until the
    block ends: TERM, then KILL after 15 s, even when the block fails."""
    port = port or free_port()
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mindlens.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, process)
            yield Server(base, process.pid)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


@dataclass
class Step:
    """The answers of one load step (seconds)."""

    offered_rps: float
    answers: list[tuple[int, float]] = field(default_factory=list)  # (status, latency); 0: no answer
    health: list[float] = field(default_factory=list)  # /healthz latencies (inf: no 200)
    rss: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        ok = [lat for status, lat in self.answers if status == 200]
        refused = [lat for status, lat in self.answers if status in REFUSED]
        other: dict[str, int] = {}
        for status, _ in self.answers:
            if status != 200 and status not in REFUSED:
                key = str(status) if status else "no answer"
                other[key] = other.get(key, 0) + 1

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        return {
            "offered_rps": round(self.offered_rps, 2),
            "sent": len(self.answers),
            "served_rps": round(len(ok) / self.wall_s, 2) if self.wall_s else 0.0,
            "accepted": len(ok),
            "accepted_p50_ms": ms(percentile(ok, 50)),
            "accepted_p99_ms": ms(percentile(ok, 99)),
            "accepted_max_ms": ms(max(ok, default=None)),
            "refused_503": sum(1 for status, _ in self.answers if status == 503),
            "refused_429": sum(1 for status, _ in self.answers if status == 429),
            "refused_under_1s": sum(1 for lat in refused if lat < 1.0),
            "refused_p99_ms": ms(percentile(refused, 99)),
            "refused_max_ms": ms(max(refused, default=None)),
            "other": other,
            "healthz_polls": len(self.health),
            "healthz_p50_ms": ms(percentile(self.health, 50)),
            "healthz_p99_ms": ms(percentile(self.health, 99)),
            "healthz_max_ms": ms(max(self.health, default=None)),
            "rss_start_mb": round(self.rss[0]) if self.rss else None,
            "rss_max_mb": round(max(self.rss)) if self.rss else None,
            "rss_end_mb": round(self.rss[-1]) if self.rss else None,
            "wall_s": round(self.wall_s, 1),
            "loadavg_1m": round(os.getloadavg()[0], 1),  # the machine's, at the step's end: contention
        }


async def _open_loop(
    base: str,
    texts: list[str],
    rate: float,
    seconds: float,
    max_requests: int,
    timeout_s: float,
    pid: int | None,
) -> Step:
    step = Step(offered_rps=rate)
    count = max(1, min(max_requests, round(rate * seconds)))
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
    done = asyncio.Event()
    async with (
        httpx.AsyncClient(base_url=base, timeout=timeout_s, limits=limits) as client,
        httpx.AsyncClient(base_url=base, timeout=timeout_s) as health_client,
    ):

        async def one(i: int) -> None:
            started = time.perf_counter()
            try:
                answer = await client.post("/analyze", json={"text": texts[i % len(texts)]})
                status = answer.status_code
            except httpx.HTTPError:
                status = 0
            step.answers.append((status, time.perf_counter() - started))

        async def probe() -> None:  # /healthz on its own connection, every 100 ms
            while not done.is_set():
                started = time.perf_counter()
                try:
                    ok = (await health_client.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                step.health.append(time.perf_counter() - started if ok else float("inf"))
                await asyncio.sleep(0.1)

        async def sample_rss() -> None:
            while not done.is_set():
                if (mb := rss_mb(pid)) is not None:
                    step.rss.append(mb)
                await asyncio.sleep(0.5)

        watchers = [asyncio.create_task(probe()), asyncio.create_task(sample_rss())]
        started = time.perf_counter()
        tasks = []
        for i in range(count):  # the schedule does not wait for answers: open loop
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        step.wall_s = time.perf_counter() - started
        done.set()
        await asyncio.gather(*watchers)
    if (mb := rss_mb(pid)) is not None:
        step.rss.append(mb)
    return step


def open_loop(
    base: str,
    texts: list[str],
    rate: float,
    seconds: float,
    *,
    max_requests: int = 5000,
    timeout_s: float = 60,
    pid: int | None = None,
) -> Step:
    """Send ``rate`` /analyze requests a second for ``seconds`` (at most ``max_requests``),
    whatever the answers, and wait for every answer (at most ``timeout_s`` each)."""
    return asyncio.run(_open_loop(base, texts, rate, seconds, max_requests, timeout_s, pid))


def capacity(base: str, texts: list[str], seconds: float, concurrency: int = 4) -> float:
    """Sustained /analyze answers per second: ``concurrency`` clients back to back (a closed
    loop: enough to keep every analysis slot busy, few enough to stay within the queue)."""

    async def run() -> float:
        served = 0
        deadline = time.perf_counter() + seconds
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            await client.post("/analyze", json={"text": texts[0]})  # warm-up
            started = time.perf_counter()
            deadline = started + seconds

            async def worker(offset: int) -> None:
                nonlocal served
                i = offset
                while time.perf_counter() < deadline:
                    answer = await client.post("/analyze", json={"text": texts[i % len(texts)]})
                    served += answer.status_code == 200
                    i += concurrency

            await asyncio.gather(*(worker(n) for n in range(concurrency)))
            return served / (time.perf_counter() - started)

    return asyncio.run(run())


def markdown(result: dict[str, Any]) -> str:
    rows = [
        f"Capacity (closed loop, {result['capacity_concurrency']} clients, {result['capacity_seconds']:g} s): "
        f"**{result['capacity_rps']:.1f} /analyze requests/s** on {result['texts']} article texts "
        f"(mean {result['mean_chars']} characters).",
        "",
        "| offered rps | served rps | accepted p50 / p99 ms | 503 | 429 | refused in < 1 s | refused p99 ms "
        "| other | /healthz p50 / p99 / max ms | RSS start / max / end MB | load avg |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for s in result["steps"]:
        other = ", ".join(f"{k}: {v}" for k, v in s["other"].items()) or "-"
        rows.append(
            f"| {s['offered_rps']:.1f} ({s['factor']:g}x) | {s['served_rps']:.1f} "
            f"| {s['accepted_p50_ms']} / {s['accepted_p99_ms']} | {s['refused_503']} | {s['refused_429']} "
            f"| {s['refused_under_1s']} | {s['refused_p99_ms'] if s['refused_p99_ms'] is not None else '-'} "
            f"| {other} "
            f"| {s['healthz_p50_ms']} / {s['healthz_p99_ms']} / {s['healthz_max_ms']} "
            f"| {s['rss_start_mb']} / {s['rss_max_mb']} / {s['rss_end_mb']} | {s['loadavg_1m']} |"
        )
    return "\n".join(rows) + "\n"


def plot(result: dict[str, Any], path: Path) -> Path:
    """The capacity curve as a picture: served against offered requests/s (with the measured
    capacity and the line of everything served), and the accepted requests' p50 / p99."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = result["steps"]
    offered = [s["offered_rps"] for s in steps]
    figure, (rate, latency) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    top = max(offered) * 1.05
    rate.plot([0, top], [0, top], color="0.75", linestyle=":", label="everything served")
    rate.axhline(result["capacity_rps"], color="0.5", linestyle="--", label="measured capacity")
    rate.plot(offered, [s["served_rps"] for s in steps], marker="o", label="served (200)")
    refused = [s["refused_503"] + s["refused_429"] for s in steps]
    rate.plot(
        offered,
        [r / s["wall_s"] if s["wall_s"] else 0.0 for r, s in zip(refused, steps, strict=True)],
        marker="x",
        label="refused (503/429)",
    )
    rate.set(xlabel="offered /analyze requests/s", ylabel="requests/s", xlim=(0, top), ylim=(0, None))
    rate.legend(fontsize=8)
    for key, label in (("accepted_p50_ms", "accepted p50"), ("accepted_p99_ms", "accepted p99")):
        latency.plot(
            offered,
            [s[key] / 1000 if s[key] is not None else float("nan") for s in steps],
            marker="o",
            label=label,
        )
    latency.set(xlabel="offered /analyze requests/s", ylabel="seconds", yscale="log")
    latency.legend(fontsize=8)
    figure.suptitle(
        f"mindlens serve, {result['texts']} article texts (mean {result['mean_chars']} characters)",
        fontsize=10,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def run_curve(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    texts = article_texts(args.texts)
    version = httpx.get(f"{server.base}/version", timeout=10).json()
    cap = capacity(server.base, texts, args.capacity_seconds)
    result: dict[str, Any] = {
        "model": version.get("model"),
        "texts": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "capacity_seconds": args.capacity_seconds,
        "capacity_concurrency": 4,
        "capacity_rps": round(cap, 2),
        "steps": [],
    }
    for factor in args.factors:
        step = open_loop(
            server.base,
            texts,
            factor * cap,
            args.step_seconds,
            max_requests=args.max_requests,
            timeout_s=args.timeout,
            pid=server.pid,
        )
        result["steps"].append({"factor": factor, **step.summary()})
        print(f"{factor:g}x: {json.dumps(result['steps'][-1])}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="load an already running server (default: start one)")
    parser.add_argument("--pid", type=int, help="that server's process id, for its RSS")
    parser.add_argument(
        "--state-dir", type=Path, help="state folder of the started server (default: a temporary one)"
    )
    parser.add_argument("--factors", type=float, nargs="+", default=[0.5, 1, 1.5, 2, 3])
    parser.add_argument("--step-seconds", type=float, default=20)
    parser.add_argument("--capacity-seconds", type=float, default=15)
    parser.add_argument("--max-requests", type=int, default=2000, help="per step")
    parser.add_argument("--timeout", type=float, default=60, help="per request, seconds")
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "load", help="writes OUT.json, OUT.md")
    parser.add_argument("--plot", type=Path, default=None, help="the curve as a PNG (default: OUT.png)")
    args = parser.parse_args()
    if args.url:
        result = run_curve(Server(args.url.rstrip("/"), args.pid), args)
    else:
        with tempfile.TemporaryDirectory(prefix="mindlens-load-") as tmp:
            state = args.state_dir or Path(tmp) / "state"
            env = serve_env(state)
            if not (state / "mlflow.db").exists():
                bootstrap(env)
            with served(env, Path(tmp) / "server.log") as server:
                result = run_curve(server, args)
    table = markdown(result)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(table)
    picture = plot(result, args.plot or args.out.with_suffix(".png"))
    print(
        f"wrote {args.out.with_suffix('.json')}, {args.out.with_suffix('.md')} and {picture}", file=sys.stderr
    )


if __name__ == "__main__":
    main()
