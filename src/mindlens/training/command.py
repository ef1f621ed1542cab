"""``python -m mindlens.training``: train a transformer family without MLflow or notebooks.

For a borrowed GPU machine with only the training dependencies (numpy, pandas, pyarrow,
torch, transformers, tokenizers, safetensors, tqdm, pydantic(-settings), PyYAML,
scikit-learn). ``train`` writes ``OUT/best`` (the PyTorch tagger for ``mindlens registry
build-release --tagger``) and ``OUT/metrics.json``; ``compact-backbone`` writes a
half-precision encoder copy to carry there; ``soft-labels`` writes a trained teacher's soft
targets on the unlabelled texts, which ``train --distill-soft-targets`` distils into a
student (``mindlens.training.distill``, docs/DISTILLATION.md). The ``train`` options are the
fields of ``TaggerTrainConfig`` (and ``--distill-*`` those of ``DistillConfig``), typed from
their annotations.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import types
import typing
from pathlib import Path
from typing import Any

from mindlens.training.train_config import DEVICES, DISTILL, DistillConfig, TaggerTrainConfig

PROG = "python -m mindlens.training"
SCALARS = (bool, int, float, str)
OWN_OPTIONS = ("command", "out", "manifest", "half_encoder", "record_backbone")


def scalar_type(hint: Any) -> type:
    """``int``, ``float``, ``str`` or ``bool`` from a field's type, also from ``X | None``;
    any other type raises (give such a field an option of its own)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    if hint not in SCALARS:
        raise TypeError(f"no command-line option for a field of type {hint!r}")
    return typing.cast(type, hint)


def add_dataclass_options(
    parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = (), prefix: str = ""
) -> None:
    """One ``--field-name`` option per field of ``cls`` (``--<prefix>field-name`` with a
    prefix): its type, default, ``help`` and any other argparse keywords (``choices``)
    from the field's metadata."""
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):
        if item.name in skip:
            continue
        kind = scalar_type(hints[item.name])
        flag = "--" + (prefix + item.name).replace("_", "-")
        extra = dict(item.metadata)
        if kind is bool:
            action = argparse.BooleanOptionalAction if item.default else "store_true"
            parser.add_argument(flag, action=action, **extra)
        else:
            parser.add_argument(flag, type=kind, default=item.default, **extra)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = top.add_subparsers(dest="command", required=True)
    compact = commands.add_parser("compact-backbone", help="half-precision copy of an encoder + tokenizer")
    compact.add_argument("backbone")
    compact.add_argument("out", type=Path)
    train = commands.add_parser(
        "train",
        help="train a family; writes OUT/best and OUT/metrics.json",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--out", type=Path, required=True)
    train.add_argument("--manifest", type=Path, help="processed dataset manifest (none: the state dir's)")
    train.add_argument("--source", action="append", dest="sources", help="span-labelled source (repeatable)")
    train.add_argument(
        "--half-encoder",
        action="store_true",
        help="store OUT/best's encoder in fp16 (half the bytes to carry back; loads as fp32)",
    )
    train.add_argument(
        "--record-backbone",
        help="backbone name to record in tagger.json (e.g. minilm when --backbone is a carried copy of it)",
    )
    add_dataclass_options(train, TaggerTrainConfig, skip=("sources", "extra", "distill"))
    add_dataclass_options(train, DistillConfig, prefix=DISTILL)
    train.set_defaults(distill=None)  # built from the --distill-* options (train_options)
    soft = commands.add_parser(
        "soft-labels",
        help="a trained teacher's soft targets on the unlabelled texts (for train --distill-soft-targets)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    soft.add_argument("--teacher", type=Path, required=True, help="trained tagger folder (OUT/best of train)")
    soft.add_argument("--out", type=Path, required=True, help="soft-target file to write (.npz)")
    soft.add_argument("--manifest", type=Path, help="processed dataset manifest (none: the state dir's)")
    soft.add_argument("--max-per-source", type=int, help="seeded sample of texts per source (none: all)")
    soft.add_argument("--seed", type=int, default=13, help="seed of that sample")
    soft.add_argument("--batch-size", type=int, default=64, help="texts per teacher forward pass")
    soft.add_argument("--device", default="auto", choices=DEVICES, help="auto: cuda when available")
    return top


def train_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``TaggerTrainConfig`` fields of parsed ``train`` arguments; ``distill`` from the
    ``--distill-*`` options when a soft-target file is given."""
    options = {k: v for k, v in vars(args).items() if k not in OWN_OPTIONS and not k.startswith(DISTILL)}
    distill = {item.name: getattr(args, DISTILL + item.name) for item in dataclasses.fields(DistillConfig)}
    options["distill"] = distill if distill["soft_targets"] else None
    return options


def _soft_labels(args: argparse.Namespace) -> int:
    from mindlens.config import get_settings
    from mindlens.data.dataset import MANIFEST, Manifest
    from mindlens.training.distill import write_soft_targets

    settings = get_settings()
    if not (args.teacher / "tagger.json").is_file():
        print(
            f"error: --teacher {args.teacher} is no trained tagger folder (no tagger.json)", file=sys.stderr
        )
        return 2
    manifest = Manifest.read(args.manifest or settings.processed_dir / MANIFEST)
    soft = write_soft_targets(
        args.teacher,
        manifest,
        settings,
        args.out,
        device=args.device,
        batch_size=args.batch_size,
        max_per_source=args.max_per_source,
        seed=args.seed,
    )
    summary = {k: soft.meta[k] for k in ("heads", "tokenisation", "teacher_backbone", "rows")}
    json.dump({"out": str(args.out), "texts": len(soft.corpus), **summary}, sys.stdout, indent=2)
    print()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "compact-backbone":
        from mindlens.models.torch_tagger import compact_backbone

        print(compact_backbone(args.backbone, args.out))
        return 0
    if args.command == "soft-labels":
        return _soft_labels(args)
    from mindlens.config import get_settings
    from mindlens.training.run import train

    options = train_options(args)
    if options["distill"] and not Path(options["distill"]["soft_targets"]).is_file():
        print(
            f"error: --distill-soft-targets {options['distill']['soft_targets']}: no such file",
            file=sys.stderr,
        )
        return 2
    trained = train(get_settings(), args.manifest, options.pop("family"), options, out=args.out, track=False)
    tagger, metrics = trained.tagger, trained.metrics
    if args.half_encoder:
        tagger.network.encoder.half().save_pretrained(args.out / "best" / "encoder")
    if args.record_backbone:
        tagger.config.backbone = args.record_backbone
        tagger.config.save(args.out / "best")
    (args.out / "metrics.json").write_text(json.dumps({k: float(v) for k, v in metrics.items()}, indent=2))
    json.dump({k: round(float(v), 4) for k, v in metrics.items()}, sys.stdout, indent=2)
    print()
    return 0
