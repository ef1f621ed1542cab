"""The training loop's learning-rate schedule and device choice (no data, no model)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from mindlens.training.loop import linear_schedule, resolve_device


def _rates(total: int, warmup_fraction: float, base: float = 1.0) -> list[float]:
    """The learning rate of each optimizer step, as training steps through them."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    scheduler = linear_schedule(optimizer, total, warmup_fraction)
    rates = []
    for _ in range(total):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def _previous(total: int, warmup_fraction: float) -> list[float]:
    """The hand-written schedule the loop used before (a LambdaLR factor per step)."""
    warmup = max(1, int(total * warmup_fraction))
    return [min((k + 1) / warmup, max(0.0, (total - k) / max(1, total - warmup))) for k in range(total)]


@pytest.mark.parametrize(("total", "fraction"), [(100, 0.1), (37, 0.2), (5, 0.1), (1, 0.1)])
def test_linear_warmup_then_linear_decay(total: int, fraction: float) -> None:
    warmup = max(1, int(total * fraction))  # at least one warmup step
    rates = _rates(total, fraction, base=5e-5)
    expected = [5e-5 * (k / warmup if k < warmup else (total - k) / (total - warmup)) for k in range(total)]
    assert rates == pytest.approx(expected, abs=1e-12)
    assert rates[0] == 0.0  # the first step only feeds the optimizer state
    assert max(rates) == pytest.approx(5e-5 if total > warmup else 0.0)
    # the previous hand-written schedule: the same decay; its warmup ran one step ahead
    # ((k + 1) / warmup instead of k / warmup), so it started above zero
    previous = _previous(total, fraction)
    assert [r / 5e-5 for r in rates[warmup:]] == pytest.approx(previous[warmup:])
    assert [r / 5e-5 for r in rates[1:warmup]] == pytest.approx(previous[: warmup - 1])


def test_every_parameter_group_follows_the_schedule() -> None:
    """Encoder and heads keep their own peak learning rates on one schedule."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in (5e-5, 1e-3)]
    optimizer = torch.optim.AdamW(groups)
    scheduler = linear_schedule(optimizer, 20, 0.1)
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([5e-5, 1e-3])


def test_resolve_device() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")
