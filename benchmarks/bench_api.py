"""Serving footprint: start `mindlens serve` on the configured champion, send requests from
a few concurrent clients, and report throughput, latency and the process's memory.

    python benchmarks/bench_api.py [--requests 60] [--concurrency 2] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TEXT = (
    "The so-called experts, those globalist puppets, got it wrong again. If we do nothing, "
    "our children will grow up in a country ruled by criminals. Every true patriot will stand "
    "with us on this. The committee will publish its report on Tuesday. Make our streets safe again!"
)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "mindlens.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=os.environ | {"MINDLENS_SERVING__PREDICTION_LOG": "false"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the server did not become ready; is a champion registered?")
        idle = _rss_mb(server.pid)
        model = httpx.get(f"{base}/version").json()["model"]

        def one(_: int) -> float:
            started = time.perf_counter()
            httpx.post(f"{base}/analyze", json={"text": TEXT}, timeout=60).raise_for_status()
            return (time.perf_counter() - started) * 1000

        one(0)  # warm-up
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            latencies = sorted(pool.map(one, range(args.requests)))
        wall = time.perf_counter() - started
        result = {
            "model": model,
            "requests": args.requests,
            "concurrency": args.concurrency,
            "requests_per_s": args.requests / wall,
            "p50_ms": statistics.median(latencies),
            "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
            "rss_idle_mb": idle,
            "rss_after_mb": _rss_mb(server.pid),
            "cpus": os.cpu_count(),
        }
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
