"""The model families MindLens trains, in one place.

A family is what a candidate (``train.candidates[].family``) or ``mindlens train --model``
names: the TF-IDF baseline, or the shared transformer encoder with a set of heads. Its
record says which heads it trains, which class its params configure, the validation
metric it early-stops on, which notebook trains it and with which parameters, its old
names, and a line for help texts. The configuration validates candidates against it,
the pipeline picks the notebook from it, training reads heads and early stopping from
it, and the CLIs build their help from it.

Imports nothing (it sits in the bottom layer beside the configuration, which validates
candidates against it, and the DAG files import it); the params classes are named by
import path and load on first use, so the registry never reaches up the layers.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HEADS = ("token", "sentence", "tc", "clickbait")  # the network's heads, in its output order

BASELINE_NOTEBOOK = "train_baseline"  # notebooks/train_baseline.ipynb: the TF-IDF analyzer's report
TRANSFORMER_NOTEBOOK = "train"  # notebooks/train.ipynb: every transformer family, by parameter
BASELINE_SETTINGS = "mindlens.config:BaselineSettings"  # what a tfidf candidate's params override
TRANSFORMER_SETTINGS = "mindlens.training.train_config:TaggerTrainConfig"  # a transformer's params


@dataclass(frozen=True)
class Family:
    name: str
    description: str  # one line, for help texts
    heads: tuple[str, ...]  # the network heads it trains; none: not a transformer (tfidf)
    notebook: str = TRANSFORMER_NOTEBOOK  # notebooks/<notebook>.ipynb trains it
    early_stopping: str | None = None  # validation metric that keeps the best epoch
    report_metrics: tuple[str, ...] = ()  # shown first in the training report
    aliases: tuple[str, ...] = ()  # older names that still mean this family

    @property
    def is_transformer(self) -> bool:
        return bool(self.heads)

    @property
    def settings_class(self) -> type:
        """The class its params configure: ``BaselineSettings`` overrides (tfidf) or the
        fields of a ``TaggerTrainConfig`` (transformers)."""
        module, _, name = (TRANSFORMER_SETTINGS if self.is_transformer else BASELINE_SETTINGS).partition(":")
        return getattr(importlib.import_module(module), name)

    def notebook_parameters(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Papermill parameters that carry a candidate's params into its notebook (the
        pipeline adds the manifest, the run name and the result path)."""
        params = dict(params or {})
        if self.is_transformer:  # one notebook for every transformer family
            return {"family": self.name, "config": params}
        return {"overrides": params}


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "tfidf",
            "TF-IDF baseline: sentence, document and clickbait models",
            heads=(),
            notebook=BASELINE_NOTEBOOK,
        ),
        Family(
            "span",
            "token + sentence heads",
            heads=("token", "sentence"),
            early_stopping="val_flc_f1_tuned",
            report_metrics=(
                "val_flc_f1",
                "val_flc_precision",
                "val_flc_recall",
                "val_si_f1",
                "val_micro_f1",
                "val_macro_f1",
                "val_slc_f1",
                "val_tc_micro_f1",
            ),
            aliases=("tagger",),  # the name V1 was trained under
        ),
        Family(
            "sentence",
            "sentence head",
            heads=("sentence",),
            early_stopping="val_micro_f1",
            report_metrics=("val_micro_f1", "val_macro_f1", "val_slc_f1", "val_flc_f1", "val_tc_micro_f1"),
        ),
        Family(
            "tc",
            "TC head: the technique of a given fragment",
            heads=("tc",),
            early_stopping="val_tc_micro_f1",
            report_metrics=("val_tc_micro_f1", "val_tc_macro_f1", "val_micro_f1", "val_flc_f1"),
        ),
        Family(
            "clickbait",
            "clickbait head, on headlines",
            heads=("clickbait",),
            early_stopping="val_clickbait_f1",
            report_metrics=(
                "val_clickbait_f1",
                "val_clickbait_accuracy",
                "val_clickbait_roc_auc",
                "val_micro_f1",
            ),
        ),
        Family(
            "multitask",
            "all four heads, trained together",
            heads=HEADS,
            early_stopping="val_flc_f1_tuned",
            report_metrics=(
                "val_flc_f1",
                "val_si_f1",
                "val_micro_f1",
                "val_macro_f1",
                "val_slc_f1",
                "val_tc_micro_f1",
                "val_tc_macro_f1",
                "val_clickbait_f1",
                "val_clickbait_roc_auc",
            ),
        ),
    )
}
ALIASES: dict[str, str] = {alias: f.name for f in FAMILIES.values() for alias in f.aliases}


def names(*, transformer_only: bool = False) -> list[str]:
    """Every name a family answers to, each family followed by its aliases."""
    return [
        name
        for f in FAMILIES.values()
        if f.is_transformer or not transformer_only
        for name in (f.name, *f.aliases)
    ]


def family(name: str) -> Family:
    """The family called ``name`` (or one of its aliases); raises naming the known ones."""
    found = FAMILIES.get(ALIASES.get(name, name))
    if found is None:
        raise ValueError(f"unknown model family {name!r}: expected one of {', '.join(names())}")
    return found


def transformer_family(name: str) -> Family:
    """Like :func:`family`, for a transformer family only (the ones with heads)."""
    found = family(name)
    if not found.is_transformer:
        raise ValueError(
            f"model family {name!r} has no network to train here: expected one of "
            f"{', '.join(names(transformer_only=True))}"
        )
    return found


def help_text() -> str:
    """The families for a command's help, e.g. ``span (token + sentence heads...; alias tagger)``."""
    return ", ".join(
        f"{f.name} ({f.description}{'; alias ' + ', '.join(f.aliases) if f.aliases else ''})"
        for f in FAMILIES.values()
    )
