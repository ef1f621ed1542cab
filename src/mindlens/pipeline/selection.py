"""Selection: the best candidate by the configured rule (``train.selection``), for the
pipeline and the retrain job alike.

The rule's metric is normally a protocol metric (``cv_flc_f1``: grouped k-fold CV, which
the training stage logs for fast candidates); a legacy ``val_`` metric is still accepted.
Each candidate's legacy value is logged beside it, so where the two disagree it shows.
"""

from __future__ import annotations

import logging
from typing import Any

from mindlens.config import PROTOCOL_PREFIXES, Settings, get_settings

log = logging.getLogger(__name__)

LATENCY = "val_latency_p95_ms"  # measured on the val sample whatever the selection metric


def select(results: list[dict[str, Any]], settings: Settings | None = None) -> dict[str, Any]:
    """Apply the selection rule of the config: best metric among candidates within the
    latency bound. A candidate without a protocol metric (a slow family, never cross-
    validated) is left out with a logged reason; without a legacy metric it is an error.
    Raises when no candidate qualifies."""
    rule = (settings or get_settings()).train.selection
    metric, legacy = rule.metric, rule.legacy_metric
    protocol = metric.startswith(PROTOCOL_PREFIXES)
    qualified, excluded = [], {}
    for result in results:
        name, metrics = result["candidate"], result["metrics"]
        latency = metrics.get(LATENCY)
        if rule.max_p95_latency_ms is not None and latency is not None and latency > rule.max_p95_latency_ms:
            excluded[name] = f"p95 {latency:.0f} ms > {rule.max_p95_latency_ms:.0f} ms"
        elif metric not in metrics and protocol:
            excluded[name] = (
                f"no {metric} (family {result.get('family', '?')}: slow families are not cross-validated; "
                "train them on `mindlens protocol holdout` data and select by a holdout_ metric)"
            )
        elif metric not in metrics:
            raise ValueError(f"candidate {name} has no metric {metric}")
        else:
            qualified.append(result)
    for name, reason in excluded.items():
        log.info("candidate %s excluded: %s", name, reason)
    if not qualified:
        raise ValueError(
            f"no candidate meets the selection rule ({rule.model_dump()}): "
            + "; ".join(f"{n}: {r}" for n, r in excluded.items())
        )
    best = max(qualified, key=lambda r: r["metrics"][metric])
    by_legacy = max(qualified, key=lambda r: r["metrics"].get(legacy, float("-inf")))
    log.info(
        "selected %s by %s=%.4f among %s",
        best["candidate"],
        metric,
        best["metrics"][metric],
        ", ".join(_shown(r, metric, legacy) for r in results),
    )
    if protocol and by_legacy is not best and legacy in by_legacy["metrics"]:
        log.info("the legacy split (%s) would have selected %s", legacy, by_legacy["candidate"])
    return best | {
        "selection": {
            "metric": metric,
            "legacy_metric": legacy,
            "candidates": {r["candidate"]: r["metrics"].get(metric) for r in results},
            "legacy": {r["candidate"]: r["metrics"].get(legacy) for r in results},
            "excluded": excluded,
        }
    }


def _shown(result: dict[str, Any], metric: str, legacy: str) -> str:
    metrics = result["metrics"]
    value = f"{metrics[metric]:.4f}" if metric in metrics else "–"
    if f"{metric}_sd" in metrics:
        value += f" ± {metrics[f'{metric}_sd']:.4f}"
    if legacy != metric and legacy in metrics:
        value += f" ({legacy} {metrics[legacy]:.4f})"
    return f"{result['candidate']} {value}"
