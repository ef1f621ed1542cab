"""Selection: the best candidate by the configured rule (``train.selection``), for the
pipeline and the retrain job alike."""

from __future__ import annotations

import logging
from typing import Any

from mindlens.config import Settings, get_settings

log = logging.getLogger(__name__)


def select(results: list[dict[str, Any]], settings: Settings | None = None) -> dict[str, Any]:
    """Apply the selection rule of the config: best metric among candidates within the
    latency bound. Raises when no candidate qualifies."""
    rule = (settings or get_settings()).train.selection
    metric, split = rule.metric, rule.metric.split("_", 1)[0]
    qualified = []
    for result in results:
        latency = result["metrics"].get(f"{split}_latency_p95_ms")
        if rule.max_p95_latency_ms is not None and latency is not None and latency > rule.max_p95_latency_ms:
            log.info(
                "candidate %s excluded: p95 %.0f ms > %.0f ms",
                result["candidate"],
                latency,
                rule.max_p95_latency_ms,
            )
            continue
        if metric not in result["metrics"]:
            raise ValueError(f"candidate {result['candidate']} has no metric {metric}")
        qualified.append(result)
    if not qualified:
        raise ValueError(f"no candidate meets the selection rule ({rule.model_dump()})")
    best = max(qualified, key=lambda r: r["metrics"][metric])
    log.info(
        "selected %s: %s=%.4f among %s",
        best["candidate"],
        metric,
        best["metrics"][metric],
        [r["candidate"] for r in results],
    )
    return best | {
        "selection": {
            "metric": metric,
            "candidates": {r["candidate"]: r["metrics"].get(metric) for r in results},
        }
    }
