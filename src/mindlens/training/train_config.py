"""What one transformer training run is asked to do: ``TaggerTrainConfig``.

A transformer candidate's ``params``, the notebook's ``config`` and the options of
``python -m mindlens.training train`` are its fields (the GPU command line is built
from them: type and ``help`` metadata). Plain dataclass, no torch: the registry and the
command line read it before anything heavy loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mindlens.families import names, transformer_family

DEVICES = ("auto", "cpu", "cuda")
DISTILL = "distill_"  # command-line prefix of the ``DistillConfig`` fields (--distill-alpha ...)


def _option(default: Any, text: str, **argparse: Any) -> Any:
    """A field with its command-line help (and argparse extras such as ``choices``)."""
    return field(default=default, metadata={"help": text, **argparse})


@dataclass
class DistillConfig:
    """Distillation from a teacher's soft targets (``mindlens.training.distill``): the
    unlabelled texts of the file become extra batches whose loss is ``alpha`` times the
    temperature-softened KL to the teacher; gold batches and their loss are unchanged."""

    soft_targets: str = _option("", "soft-target file written by `soft-labels` (empty: no distillation)")
    alpha: float = _option(0.5, "weight of the distillation batches' loss (gold loss weight stays 1)")
    temperature: float = _option(2.0, "softening of teacher and student logits (loss scaled by T^2)")
    max_examples: int | None = _option(None, "seeded sample of the soft-target texts (none: all)")

    def __post_init__(self) -> None:
        if self.alpha < 0:
            raise ValueError(f"distill alpha must be >= 0, not {self.alpha}")
        if self.temperature <= 0:
            raise ValueError(f"distill temperature must be > 0, not {self.temperature}")
        if self.max_examples is not None and self.max_examples < 1:
            raise ValueError(f"distill max_examples must be >= 1, not {self.max_examples}")


@dataclass
class TaggerTrainConfig:
    family: str = _option("span", "transformer family (its heads)", choices=names(transformer_only=True))
    backbone: str = _option("minilm", "encoder alias (minilm), local folder or hub id")
    epochs: int = _option(3, "maximum epochs (early stopping on the family's val metric)")
    batch_size: int = _option(16, "sentences per batch")
    learning_rate: float = _option(5e-5, "encoder learning rate")
    head_learning_rate: float = _option(1e-3, "learning rate of the heads")
    warmup_fraction: float = _option(0.1, "share of the steps with a linear warmup, then linear decay")
    max_length: int = _option(128, "tokens per window")
    patience: int = _option(1, "epochs without improvement before stopping")
    max_train_sentences: int | None = _option(None, "seeded sample of the main sources' training sentences")
    max_val_sentences: int | None = _option(None, "seeded sample of validation sentences (and headlines)")
    seed: int = _option(13, "seed of sampling, initialisation and batch order")
    max_pos_weight: float = _option(30.0, "cap of the rare-technique loss weights")
    sources: list[str] | None = None  # span-labelled sources to train on (default: config)
    context_sentences: int = _option(
        0, "1: each sentence with its previous and next sentence (text pair)", choices=(0, 1)
    )
    max_clickbait_headlines: int | None = _option(
        None, "seeded sample of training headlines (clickbait head)"
    )
    device: str = _option("auto", "auto: cuda when available", choices=DEVICES)
    bf16: bool = _option(False, "bf16 autocast on cuda (faster; weights and losses stay fp32)")
    # soft targets of a teacher to distil (``{soft_targets, alpha, temperature}``); None: none
    distill: DistillConfig | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.family = transformer_family(self.family).name
        if isinstance(self.distill, dict):  # a candidate's params and the notebook pass a mapping
            self.distill = DistillConfig(**self.distill)
        if self.distill is not None and not self.distill.soft_targets:
            self.distill = None
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.context_sentences not in (0, 1):
            raise ValueError(f"context_sentences must be 0 or 1, not {self.context_sentences}")

    @property
    def heads(self) -> list[str]:
        return list(transformer_family(self.family).heads)

    @property
    def early_stopping(self) -> str:
        """The validation metric that keeps the best epoch (the family's)."""
        return str(transformer_family(self.family).early_stopping)
