"""The losses of the heads, weighted so rare techniques count.

Token and sentence heads: binary cross-entropy per technique with ``pos_weight``
sqrt(negatives / positives), capped. TC: cross-entropy over techniques on the span's
pooled TC logits (in the same forward pass as the other losses), class weights
sqrt(most frequent / count), capped. Clickbait batches (headlines) get only the clickbait
loss; sentence batches get the sum of the losses of the heads the model has. Soft batches
(distillation, ``mindlens.training.distill``) get ``SoftTargetLoss``: the binary KL to a
teacher's probabilities, both sides softened by a temperature.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch


def pos_weight(matrix: np.ndarray, cap: float) -> torch.Tensor:
    """sqrt(negatives / positives) per label, capped: rare techniques count more."""
    positives = matrix.sum(axis=0)
    negatives = len(matrix) - positives
    weight = np.sqrt(np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0))
    return torch.tensor(np.clip(weight, 1.0, cap), dtype=torch.float32)


def class_weight(targets: list[int], n_labels: int, cap: float) -> torch.Tensor:
    """TC cross-entropy weights: sqrt(most frequent / count) per technique, capped."""
    counts = np.bincount(np.asarray(targets, dtype=int), minlength=n_labels).astype(float)
    weight = np.sqrt(np.where(counts > 0, counts.max(initial=1.0) / np.maximum(counts, 1), 1.0))
    return torch.tensor(np.clip(weight, 1.0, cap), dtype=torch.float32)


def criteria(
    heads: list[str],
    texts: list[dict[str, Any]],
    headlines: pd.DataFrame,
    n_labels: int,
    cap: float,
    device: Any,
) -> dict[str, Any]:
    """One loss per head, its weights counted on the training examples (``texts``:
    sentence examples; ``headlines``: the clickbait training headlines)."""
    out: dict[str, Any] = {}
    if "token" in heads:
        token_matrix = np.concatenate([ex["token_labels"][ex["valid"]] for ex in texts])
        out["token"] = torch.nn.BCEWithLogitsLoss(
            pos_weight=pos_weight(token_matrix, cap).to(device), reduction="none"
        )
    if "sentence" in heads:
        out["sentence"] = torch.nn.BCEWithLogitsLoss(
            pos_weight=pos_weight(np.stack([ex["sentence_labels"] for ex in texts]), cap).to(device)
        )
    if "tc" in heads:
        targets = [j for ex in texts for _, j in ex["tc"]]
        out["tc"] = torch.nn.CrossEntropyLoss(weight=class_weight(targets, n_labels, cap).to(device))
    if "clickbait" in heads:
        y = headlines["clickbait"].to_numpy(dtype=np.float32)[:, None]
        out["clickbait"] = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight(y, cap).to(device)[0])
    return out


def pool_tc(tc_token_logits: Any, tc_context_logits: Any, rows: Any, masks: Any) -> Any:
    """TC logits of spans (torch): the mean of the span tokens' logits plus the context
    logits of the span's sentence; the same pooling ``Inference.tc_probs`` does in numpy."""
    per_token = tc_token_logits[rows] * masks.unsqueeze(-1).to(tc_token_logits.dtype)
    return per_token.sum(dim=1) / masks.sum(dim=1, keepdim=True).clamp(min=1.0) + tc_context_logits[rows]


def soften(probs: Any, temperature: float, eps: float = 1e-3) -> Any:
    """Teacher probabilities at a temperature: sigmoid(logit(p) / T), p clipped first
    (stored as float16, the extremes carry no more information than that)."""
    probs = probs.clamp(eps, 1.0 - eps)
    return torch.sigmoid(torch.log(probs / (1.0 - probs)) / temperature)


def binary_kl(student_logits: Any, teacher_probs: Any) -> Any:
    """KL(teacher || student) of independent Bernoullis, element-wise: zero where the
    student says what the teacher says (soft cross-entropy minus the teacher's entropy,
    so the value itself reads as the gap; the gradient is the soft cross-entropy's)."""
    q = teacher_probs
    entropy = q * torch.log(q) + (1.0 - q) * torch.log1p(-q)
    cross = q * torch.nn.functional.logsigmoid(student_logits) + (1.0 - q) * torch.nn.functional.logsigmoid(
        -student_logits
    )
    return entropy - cross


class SoftTargetLoss:
    """Distillation loss of a soft batch: ``alpha * T^2 *`` the sum over the heads both
    the student and the batch have (token, sentence, clickbait) of the mean binary KL
    between the softened teacher and student probabilities (T^2 keeps the gradient's
    scale independent of T, as in Hinton et al.). Label columns the teacher lacks and
    tokens without a teacher opinion are masked."""

    def __init__(self, alpha: float, temperature: float) -> None:
        self.alpha, self.temperature = alpha, temperature

    def terms(self, outputs: dict[str, Any], batch: dict[str, Any]) -> dict[str, Any]:
        """The mean KL of each head that applies to this batch (unweighted, T applied)."""
        t = self.temperature
        labels = batch["soft_label_mask"]
        out: dict[str, Any] = {}
        if "token_logits" in outputs and batch["soft_token_mask"].any() and labels.any():
            mask = (batch["soft_token_mask"][..., None] & labels).float()
            kl = binary_kl(outputs["token_logits"].float() / t, soften(batch["soft_token"], t))
            out["token"] = (kl * mask).sum() / mask.sum()
        if "sentence_logits" in outputs and batch["soft_sentence_mask"].any() and labels.any():
            mask = (batch["soft_sentence_mask"][:, None] & labels).float()
            kl = binary_kl(outputs["sentence_logits"].float() / t, soften(batch["soft_sentence"], t))
            out["sentence"] = (kl * mask).sum() / mask.sum()
        if "clickbait_logits" in outputs and batch["soft_clickbait_mask"].any():
            mask = batch["soft_clickbait_mask"]
            kl = binary_kl(
                outputs["clickbait_logits"][:, 0].float()[mask] / t, soften(batch["soft_clickbait"][mask], t)
            )
            out["clickbait"] = kl.mean()
        return out

    def __call__(self, outputs: dict[str, Any], batch: dict[str, Any]) -> Any:
        """The weighted loss, or None when no head of the student has a target here."""
        terms = list(self.terms(outputs, batch).values())
        if not terms:
            return None
        return self.alpha * self.temperature**2 * torch.stack(terms).sum()


def batch_loss(outputs: dict[str, Any], batch: dict[str, Any], losses: dict[str, Any]) -> Any:
    """The sum of the losses that apply to this batch (clickbait batches: clickbait only;
    soft batches: the distillation loss only); None when none does (a TC-only batch
    without gold spans)."""
    if "soft_label_mask" in batch:
        return losses["distill"](outputs, batch)
    if "clickbait" in batch:
        return losses["clickbait"](outputs["clickbait_logits"][:, 0].float(), batch["clickbait"])
    loss = None

    def add(term: Any) -> None:
        nonlocal loss
        loss = term if loss is None else loss + term

    if "token_logits" in outputs:
        valid = batch["valid"]
        per_token = losses["token"](outputs["token_logits"].float(), batch["token_labels"]).mean(dim=-1)
        add((per_token * valid).sum() / valid.sum().clamp(min=1))
    if "sentence_logits" in outputs:
        add(losses["sentence"](outputs["sentence_logits"].float(), batch["sentence_labels"]))
    if "tc_token_logits" in outputs and len(batch["tc_targets"]):
        logits = pool_tc(
            outputs["tc_token_logits"].float(),
            outputs["tc_context_logits"].float(),
            batch["tc_rows"],
            batch["tc_masks"],
        )
        add(losses["tc"](logits, batch["tc_targets"]))
    return loss
