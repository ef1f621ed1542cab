"""Seconds per training step of a backbone with all four heads (batch 16 x 128 tokens):
what docs/DISTILLATION.md scales its CPU estimates by.

    PYTHONPATH=src python benchmarks/train_step.py mpnet minilm [--steps 3]

Prints one line per backbone: load time and each step's seconds (the first includes
warm-up); run both in one call so they share the machine's load.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from mindlens import taxonomy
from mindlens.models.torch_tagger import TorchTagger


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("backbones", nargs="+", help="aliases (minilm, mpnet), folders or hub ids")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, torch threads {torch.get_num_threads()}")
    for name in args.backbones:
        torch.manual_seed(0)
        started = time.perf_counter()
        tagger = TorchTagger.from_backbone(
            name, list(taxonomy.TECHNIQUE_IDS), heads=["token", "sentence", "tc", "clickbait"]
        )
        load = time.perf_counter() - started
        network = tagger.network.train()
        optimizer = torch.optim.AdamW(network.parameters(), lr=5e-5)
        ids = torch.randint(1000, 20000, (args.batch, args.length))
        mask = torch.ones_like(ids)
        seconds = []
        for _ in range(args.steps):
            started = time.perf_counter()
            loss = sum(o.float().pow(2).mean() for o in network(ids, mask))
            optimizer.zero_grad()
            loss.backward()  # type: ignore[union-attr]
            optimizer.step()
            seconds.append(round(time.perf_counter() - started, 2))
        print(f"{name}: load {load:.1f} s, steps {seconds} s")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
