"""``mindlens compare`` puts the protocol's figures (grouped CV mean ± sd) beside the legacy
split's, on a real MLflow store (SQLite)."""

import mlflow

from mindlens.config import Settings
from mindlens.evaluation.compare import compare_runs, to_markdown
from mindlens.tracking import configure_mlflow


def _run(name: str, metrics: dict[str, float]) -> str:
    with mlflow.start_run(run_name=name, tags={"model_family": "tfidf"}) as run:
        mlflow.log_metrics(metrics)
    return run.info.run_id


def test_protocol_columns_sit_beside_the_legacy_ones(tmp_path):
    settings = Settings(state_dir=tmp_path)
    configure_mlflow(settings)
    honest = _run(
        "honest", {"val_flc_f1": 0.124, "cv_flc_f1": 0.089, "cv_flc_f1_sd": 0.009, "val_si_f1": 0.28}
    )
    legacy = _run("legacy", {"val_flc_f1": 0.13, "val_si_f1": 0.29})
    frame = compare_runs(settings, [honest, legacy])
    columns = list(frame.columns)
    assert columns.index("flc_f1 (grouped cv)") == columns.index("flc_f1") + 1
    assert "si_f1 (grouped cv)" not in columns  # no run has it
    table = to_markdown(frame)
    row = next(line for line in table.splitlines() if line.startswith("| flc_f1 (grouped cv) |"))
    assert row == "| flc_f1 (grouped cv) | 0.089 ± 0.009 | – |"
    assert "| flc_f1 | 0.124 | 0.130 |" in table
