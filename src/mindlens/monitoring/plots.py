"""The dashboard's panels rendered from Prometheus data with matplotlib, for where Grafana
cannot run (the README's figure): every query of ``dashboard.PANELS`` is fetched with the
HTTP API's ``query_range`` and drawn in the dashboard's order."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from mindlens.monitoring.dashboard import PANELS


def query_range(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
    """``/api/v1/query_range`` result (a list of series with ``metric`` and ``values``)."""
    response = httpx.get(
        f"{prometheus.rstrip('/')}/api/v1/query_range",
        params={"query": expr, "start": start, "end": end, "step": step},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body.get('error')}")
    return body["data"]["result"]


def _legend(template: str, labels: dict[str, str]) -> str:
    out = template
    for key, value in labels.items():
        out = out.replace("{{" + key + "}}", value)
    return re.sub(r"\s*\{\{\w+\}\}", "", out)  # a label the series lacks (e.g. `or vector(0)`)


def render(
    prometheus: str, out: Path, start: float, end: float | None = None, step: float | None = None
) -> Path:
    """One PNG with a subplot per dashboard panel over ``[start, end]``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    end = time.time() if end is None else end
    step = step or max(1.0, (end - start) / 300)
    cols = 3
    rows = math.ceil(len(PANELS) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.2 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, PANELS, strict=False):
        drawn = 0
        for query in panel.queries:
            for series in query_range(prometheus, query.expr, start, end, step):
                xs = [datetime.fromtimestamp(float(t), tz=UTC) for t, _ in series["values"]]
                ys = [float(v) for _, v in series["values"]]
                ax.plot(xs, ys, label=_legend(query.legend, series["metric"])[:40], linewidth=1.2)
                drawn += 1
        ax.set_title(panel.title, fontsize=10)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        ax.tick_params(labelsize=7)
        ax.set_ylabel(panel.unit, fontsize=8)
        if drawn:
            ax.legend(fontsize=6, loc="upper left", ncol=2 if drawn > 6 else 1)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    for ax in list(axes.flat)[len(PANELS) :]:
        ax.axis("off")
    fig.suptitle(
        "MindLens service: dashboard panels from Prometheus "
        f"({datetime.fromtimestamp(start, tz=UTC):%Y-%m-%d %H:%M}–"
        f"{datetime.fromtimestamp(end, tz=UTC):%H:%M} UTC)"
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out
