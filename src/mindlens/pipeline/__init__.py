"""The stages of MindLens's jobs as plain functions, one module per concern:

- ``data``: fetch_data, prepare_data, validate_data, profile_data, rebuild_dataset
- ``training``: candidates, retrain_candidates, train_candidate (the family registry,
  ``mindlens.families``, names each family's notebook)
- ``selection``: select
- ``evaluation``: evaluation_reports, compare_with_champion (feedback_metrics, score)
- ``registration``: register (champion if better), register_challenger
- ``gate``: gate, decide (the retrain gate and the record of its decision)
- ``deploy``: promote_if_passed, redeploy, notify_reload

The training pipeline (``dags/mindlens_pipeline.py``, ``mindlens train``) calls the names
exported here; the retrain job (``mindlens.retrain``, ``dags/mindlens_retrain.py``) composes
the same functions. Each stage takes and returns JSON-serialisable values (they travel as
XComs between Airflow workers) and reads its settings itself, so a task runs on any worker
that has the project and its configuration.
"""

from mindlens.pipeline.data import fetch_data, prepare_data, profile_data, validate_data
from mindlens.pipeline.deploy import notify_reload, redeploy
from mindlens.pipeline.evaluation import evaluation_reports
from mindlens.pipeline.registration import register
from mindlens.pipeline.selection import select
from mindlens.pipeline.training import candidates, train_candidate

__all__ = [
    "candidates",
    "evaluation_reports",
    "fetch_data",
    "notify_reload",
    "prepare_data",
    "profile_data",
    "redeploy",
    "register",
    "select",
    "train_candidate",
    "validate_data",
]
