"""Runs or registered versions side by side on the main metrics (``mindlens compare``).

Beside each legacy split metric, the protocol's figures where a run has them (docs/
VALIDATION.md): ``<m> (grouped cv)`` (mean ± sd over the grouped folds, logged by the
training stage for fast candidates) and ``<m> (held-out)`` (models trained on a
``mindlens protocol holdout`` dataset)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mindlens.config import Settings
from mindlens.evaluation.evaluate import CURATED_METRICS, MAIN_METRICS
from mindlens.tracking import configure_mlflow

if TYPE_CHECKING:
    from mlflow.entities import Run

START, END = "<!-- mindlens-compare:start -->", "<!-- mindlens-compare:end -->"
# run metric prefix -> the label of its column; the sd is logged as <prefix><m>_sd
PROTOCOL_COLUMNS = {"cv_": "grouped cv", "holdout_": "held-out"}


def protocol_column(metric: str, prefix: str) -> str:
    return f"{metric} ({PROTOCOL_COLUMNS[prefix]})"


def _row(run: Run, label: str, split: str) -> dict[str, object]:
    metrics = run.data.metrics
    row: dict[str, object] = {
        "model": label,
        "run": run.info.run_id[:8],
        "family": run.data.tags.get("model_family", ""),
    }
    for name in MAIN_METRICS:
        row[name] = metrics.get(f"{split}_{name}")
        for prefix in PROTOCOL_COLUMNS:
            if f"{prefix}{name}" in metrics:  # (mean, sd); sd nan where not measured
                row[protocol_column(name, prefix)] = (
                    metrics[f"{prefix}{name}"],
                    metrics.get(f"{prefix}{name}_sd", float("nan")),
                )
    for name in CURATED_METRICS:
        row[name] = metrics.get(name)
    row["train_seconds"] = metrics.get("train_seconds")  # wall time where the run trained (CPU)
    return row


def compare_runs(
    settings: Settings,
    run_ids: list[str] | None = None,
    *,
    registered: bool = False,
    last: int = 10,
    split: str = "val",
) -> pd.DataFrame:
    """One row per run (given ids, the registered versions, or the last N training runs)."""
    import mlflow

    configure_mlflow(settings)
    client = mlflow.MlflowClient()
    rows = []
    if registered:
        name = settings.mlflow.registered_model
        champion = None
        try:
            champion = client.get_model_version_by_alias(name, settings.mlflow.champion_alias).version
        except mlflow.exceptions.MlflowException:
            pass
        versions = sorted(client.search_model_versions(f"name = '{name}'"), key=lambda v: int(v.version))
        for version in versions:
            if version.run_id:
                mark = f" ({settings.mlflow.champion_alias})" if version.version == champion else ""
                rows.append(_row(client.get_run(version.run_id), f"v{version.version}{mark}", split))
    elif run_ids:
        rows = [
            _row(client.get_run(run_id), client.get_run(run_id).info.run_name or run_id[:8], split)
            for run_id in run_ids
        ]
    else:
        experiment = client.get_experiment_by_name(settings.mlflow.experiment)
        if experiment is None:  # configure_mlflow creates it
            raise RuntimeError(f"no MLflow experiment {settings.mlflow.experiment!r}")
        runs = client.search_runs(
            [experiment.experiment_id],
            "tags.model_family != ''",
            order_by=["attributes.start_time DESC"],
            max_results=last,
        )
        rows = [_row(run, run.info.run_name or run.info.run_id[:8], split) for run in runs]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = ["model", "run", "family"]
    for name in MAIN_METRICS:  # each metric, then its protocol figures beside it
        order += [name] + [protocol_column(name, p) for p in PROTOCOL_COLUMNS]
    order += [*CURATED_METRICS, "train_seconds"]
    order += [c for c in frame.columns if c not in order]
    keep = [
        c
        for c in order
        if c in frame.columns
        and (c not in [*MAIN_METRICS, *CURATED_METRICS, "train_seconds"] or frame[c].notna().any())
    ]
    return frame[keep]


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, tuple):  # a protocol figure: mean ± sd
        mean, sd = value
        return _cell(mean) + ("" if math.isnan(sd) else f" ± {sd:.3f}")
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def to_markdown(frame: pd.DataFrame, split: str = "val") -> str:
    """A GitHub Markdown table: one column per model, one row per metric (3 decimals,
    "–" where a model lacks a metric), which stays readable with many metrics."""
    if frame.empty:
        return "_no runs to compare_"
    models = [f"{m} `{r}`" for m, r in zip(frame["model"], frame["run"], strict=False)]
    lines = ["| metric (" + split + ") | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for column in frame.columns:
        if column in ("model", "run"):
            continue
        whole = column.endswith(("_ms", "_seconds"))
        cells = [_cell(round(v) if isinstance(v, float) and whole and v == v else v) for v in frame[column]]
        lines.append(f"| {column} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update_readme(readme: Path, table: str, command: str) -> None:
    """Replace the table between the compare markers (added at the end if missing)."""
    text = readme.read_text(encoding="utf-8")
    block = f"{START}\n<!-- generated by `{command}`; do not edit by hand -->\n{table}\n{END}"
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")
