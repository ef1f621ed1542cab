"""Champion promotion on a real MLflow registry (SQLite)."""

import mlflow
import pytest

from mindlens.config import Settings
from mindlens.registry import NoChampionError, champion_info, register_if_better
from mindlens.tracking import configure_mlflow


def _fake_run(settings: Settings, metric: float) -> tuple[str, str]:
    """A run with a metric and a tiny logged model, as training would leave it."""
    import tempfile
    from pathlib import Path

    from mindlens.models.analyzer import Analyzer
    from mindlens.models.baseline import TfidfOvrClassifier
    from mindlens.training.baseline import PYFUNC_CODE

    configure_mlflow(settings)
    model = TfidfOvrClassifier(["doubt"], min_df=1).fit(["is it true?", "it is."], [["doubt"], []])
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_metric(settings.train.selection_metric, metric)
        bundle = Analyzer(model).save(Path(tmp) / "analyzer")
        info = mlflow.pyfunc.log_model(
            name="analyzer", python_model=str(PYFUNC_CODE), artifacts={"analyzer": str(bundle)}
        )
    return run.info.run_id, info.model_uri


def test_first_model_becomes_champion_and_only_better_ones_replace_it(tmp_path):
    settings = Settings(state_dir=tmp_path)
    with pytest.raises(NoChampionError):
        champion_info(settings)

    first = register_if_better(settings, *_fake_run(settings, 0.30))
    assert first.promoted and first.reason == "no champion yet"

    worse = register_if_better(settings, *_fake_run(settings, 0.20))
    assert not worse.promoted and worse.version == "2"
    assert champion_info(settings).version == "1"
    assert champion_info(settings, alias="challenger").version == "2"

    better = register_if_better(settings, *_fake_run(settings, 0.40))
    assert better.promoted and better.champion_metric == pytest.approx(0.30)
    current = champion_info(settings)
    assert current.version == "3" and current.metric == pytest.approx(0.40)


def test_run_without_the_selection_metric_is_refused(tmp_path):
    settings = Settings(state_dir=tmp_path)
    run_id, uri = _fake_run(settings, 0.1)
    other = Settings(state_dir=tmp_path, train={"selection": {"metric": "val_missing"}})
    with pytest.raises(ValueError, match="val_missing"):
        register_if_better(other, run_id, uri)


def test_promote_and_rollback_move_the_champion(tmp_path):
    from mindlens.registry import list_versions, promote, rollback

    settings = Settings(state_dir=tmp_path)
    register_if_better(settings, *_fake_run(settings, 0.30))  # v1 champion
    register_if_better(settings, *_fake_run(settings, 0.10))  # v2, not promoted
    assert champion_info(settings).version == "1"
    moved = promote(settings, "2")
    assert moved["previous"] == "1" and champion_info(settings).version == "2"
    rows = {r["version"]: r for r in list_versions(settings)}
    assert rows["2"]["aliases"] == ["challenger", "champion"] and rows["1"]["aliases"] == []
    back = rollback(settings)
    assert back == {
        "name": settings.mlflow.registered_model,
        "alias": "champion",
        "version": "1",
        "rolled_back_from": "2",
    }
    assert champion_info(settings).version == "1"
    with pytest.raises(LookupError, match="no version 9"):
        promote(settings, "9")
    with pytest.raises(LookupError, match="no earlier"):
        rollback(settings)  # v1 was first: nothing before it


def test_versions_carry_semver_and_changelog(tmp_path):
    import mlflow

    from mindlens.registry.registry import next_semver

    assert next_semver([]) == "1.0.0"
    assert next_semver(["1.0.0", None, "junk", "1.2.0", "0.9.1"]) == "1.3.0"
    settings = Settings(state_dir=tmp_path)
    first = register_if_better(settings, *_fake_run(settings, 0.3))
    second = register_if_better(settings, *_fake_run(settings, 0.1))
    client = mlflow.MlflowClient()
    tags = [
        client.get_model_version(settings.mlflow.registered_model, v).tags
        for v in (first.version, second.version)
    ]
    assert [t["semver"] for t in tags] == ["1.0.0", "1.1.0"]
    assert all(settings.train.selection_metric in t["changelog"] for t in tags)
