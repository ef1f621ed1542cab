"""``python -m mindlens.training``: options typed from ``TaggerTrainConfig``, the old module
path still runs (V1's release records its training command with it)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mindlens.training.command import add_dataclass_options, parser, scalar_type, train_options
from mindlens.training.train_config import TaggerTrainConfig

ROOT = Path(__file__).resolve().parents[2]


def test_train_options_are_the_config_fields_with_their_types() -> None:
    args = parser().parse_args(
        "train --out OUT --family tagger --epochs 5 --learning-rate 8e-5 --max-train-sentences 300 "
        "--bf16 --source ptc --source curated --context-sentences 1".split()
    )
    assert args.out == Path("OUT") and args.sources == ["ptc", "curated"]
    assert (args.family, args.epochs, args.learning_rate, args.max_train_sentences) == (
        "tagger",
        5,
        8e-5,
        300,
    )
    assert args.bf16 is True and args.context_sentences == 1
    defaults = parser().parse_args(["train", "--out", "OUT"])
    for item in dataclasses.fields(TaggerTrainConfig):
        if item.name not in ("sources", "extra"):
            assert getattr(defaults, item.name) == item.default, item.name
    options = train_options(args)
    assert options["distill"] is None  # no --distill-soft-targets
    assert TaggerTrainConfig(**options).family == "span"


@pytest.mark.parametrize(
    "bad", [["--family", "tfidf"], ["--device", "tpu"], ["--epochs", "two"], ["--context-sentences", "2"]]
)
def test_bad_values_are_refused_by_the_parser(bad: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parser().parse_args(["train", "--out", "OUT", *bad])
    assert exit_.value.code == 2


def test_only_scalar_fields_become_options() -> None:
    assert scalar_type(int) is int and scalar_type(int | None) is int and scalar_type(bool) is bool
    with pytest.raises(TypeError, match="list"):
        scalar_type(list[str] | None)

    @dataclasses.dataclass
    class WithList:
        names: list[str] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError):
        add_dataclass_options(argparse.ArgumentParser(), WithList)


@pytest.mark.parametrize("module", ["mindlens.training", "mindlens.training.transformer"])
def test_module_paths_run(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "--max-clickbait-headlines" in result.stdout and "--half-encoder" in result.stdout


def test_v1_recorded_command_still_parses() -> None:
    """The command ``models/v1/release.json`` records parses as it did (the old module path
    runs this same parser)."""
    command = json.loads((ROOT / "models" / "v1" / "release.json").read_text())["training"]["command"]
    prefix = "python -m mindlens.training.transformer "
    assert command.startswith(prefix)
    args = parser().parse_args(command.removeprefix(prefix).split())
    assert (args.family, args.epochs, args.batch_size, args.half_encoder) == ("multitask", 5, 32, True)
