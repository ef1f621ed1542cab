"""Champion promotion on a real MLflow registry (SQLite)."""

import mlflow
import pytest

from mindlens.config import Settings
from mindlens.registry import NoChampionError, champion_info, register_if_better
from mindlens.tracking import configure_mlflow


def _fake_run(settings: Settings, metric: float | None, **more: float) -> tuple[str, str]:
    """A run with a metric (the selection metric; None: not logged, as for a model that was
    never cross-validated), ``more`` metrics and a tiny logged model, as training would leave it."""
    import tempfile
    from pathlib import Path

    from mindlens.models.analyzer import Analyzer
    from mindlens.models.baseline import TfidfOvrClassifier
    from mindlens.training.baseline import PYFUNC_CODE

    configure_mlflow(settings)
    model = TfidfOvrClassifier(["doubt"], min_df=1).fit(["is it true?", "it is."], [["doubt"], []])
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as tmp:
        if metric is not None:
            mlflow.log_metric(settings.train.selection_metric, metric)
        mlflow.log_metrics(more)
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


def test_a_champion_without_the_protocol_metric_is_compared_on_the_legacy_split(tmp_path):
    settings = Settings(state_dir=tmp_path)
    assert settings.train.selection_metric == "cv_flc_f1"
    v1 = register_if_better(settings, *_fake_run(settings, None, val_flc_f1=0.25))  # V1: no CV
    assert v1.promoted
    weaker = register_if_better(settings, *_fake_run(settings, 0.09, val_flc_f1=0.12))
    assert not weaker.promoted and weaker.metric_name == "val_flc_f1"
    assert "compared on the legacy split" in weaker.reason
    assert champion_info(settings).version == "1"  # not replaced because it has no cv_flc_f1
    stronger = register_if_better(settings, *_fake_run(settings, 0.2, val_flc_f1=0.3))
    assert stronger.promoted and champion_info(settings).version == "3"
    # both cross-validated: the protocol metric decides, whatever the legacy split says
    lucky = register_if_better(settings, *_fake_run(settings, 0.1, val_flc_f1=0.5))
    assert not lucky.promoted and lucky.metric_name == "cv_flc_f1"
    # a candidate never cross-validated (trained outside the pipeline) meets it on the legacy split
    legacy_only = register_if_better(settings, *_fake_run(settings, None, val_flc_f1=0.4))
    assert legacy_only.promoted and legacy_only.metric_name == "val_flc_f1"


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


def _tags(settings: Settings, version: str) -> dict[str, str]:
    return dict(mlflow.MlflowClient().get_model_version(settings.mlflow.registered_model, version).tags)


def test_register_version_sets_the_standard_tags_and_the_alias(tmp_path):
    from mindlens.registry import register_version

    settings = Settings(state_dir=tmp_path)
    metric = settings.train.selection_metric
    run_id, uri = _fake_run(settings, 0.25)
    first = register_version(settings, uri, run_id=run_id, changelog="first", tags={"origin": "test"})
    assert (first.version, first.semver, first.alias, first.previous) == ("1", "1.0.0", None, None)
    tags = _tags(settings, "1")
    assert len(tags.pop("artifacts_sha256")) == 64  # checked whenever serving loads the version
    assert tags == {
        "semver": "1.0.0",
        "changelog": "first",
        "run_id": run_id,
        metric: "0.25",
        "origin": "test",
    }
    with pytest.raises(NoChampionError):
        champion_info(settings)  # no alias asked for, none set

    second = register_version(settings, uri, run_id=run_id, changelog="second", alias="champion")
    assert second.semver == "1.1.0" and champion_info(settings).version == "2"
    third = register_version(settings, uri, run_id=run_id, changelog="x", semver="7.0.0", alias="champion")
    assert third.previous == "2" and _tags(settings, "3")["previous_champion"] == "2"
    assert _tags(settings, "3")["semver"] == "7.0.0"
    with pytest.raises(ValueError, match="semver"):
        register_version(settings, uri, run_id=run_id, changelog="x", tags={"semver": "0.0.1"})


def test_pipeline_retrain_and_release_register_with_the_same_standard_tags(tmp_path):
    """The three ways a version comes to be all go through register_version."""
    from mindlens import retrain
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.baseline import TfidfOvrClassifier
    from mindlens.registry import register_release, tag_version
    from mindlens.training.release import write_release

    settings = Settings(state_dir=tmp_path)
    metric = settings.train.selection_metric

    # the pipeline: register_if_better (champion, first version)
    pipeline_version = register_if_better(settings, *_fake_run(settings, 0.30)).version

    # the retrain job: challenger, with the retrain run's id
    candidate_run, candidate_uri = _fake_run(settings, 0.20)
    with mlflow.start_run(run_name="retrain") as retrain_run:
        pass
    evaluation = {
        "run_id": retrain_run.info.run_id,
        "reason": "test",
        "candidate": "tfidf",
        "candidate_run_id": candidate_run,
        "model_uri": candidate_uri,
        "metrics": {"candidate": {"feedback_documents": 2.0}, "champion": None},
    }
    registration = retrain.register(evaluation, settings)
    assert registration["alias"] == "challenger" and registration["semver"] == "1.1.0"
    retrain_version = registration["version"]
    run_tags = mlflow.MlflowClient().get_run(retrain_run.info.run_id).data.tags
    assert run_tags["registered_version"] == retrain_version and run_tags["registered_semver"] == "1.1.0"

    # the shipped release: its own semantic version, champion
    folder = tmp_path / "release"
    model = TfidfOvrClassifier(["doubt"], min_df=1).fit(["is it true?", "it is."], [["doubt"], []])
    Analyzer(model).save(folder)
    write_release(folder, version="9.0.0", changelog="shipped", metrics={metric: 0.5})
    release_version = register_release(settings, folder)["version"]

    tags = {v: _tags(settings, v) for v in (pipeline_version, retrain_version, release_version)}
    standard = {"semver", "changelog", "run_id", "artifacts_sha256", metric}
    for version, version_tags in tags.items():
        assert standard <= set(version_tags), (version, version_tags)
    assert set(tags[pipeline_version]) == standard
    assert set(tags[retrain_version]) == standard | {"retrain_run_id"}
    assert tags[retrain_version]["retrain_run_id"] == retrain_run.info.run_id
    assert tags[retrain_version]["run_id"] == candidate_run and tags[retrain_version][metric] == "0.2"
    assert "2 reviewed feedback text(s)" in tags[retrain_version]["changelog"]
    assert set(tags[release_version]) == standard | {"previous_champion", "shipped"}
    assert tags[release_version]["shipped"] == "true"  # how bootstrap tells shipped releases apart
    assert tags[release_version]["semver"] == "9.0.0" and tags[release_version][metric] == "0.5"
    assert tags[release_version]["previous_champion"] == pipeline_version
    assert champion_info(settings).version == release_version
    assert champion_info(settings, alias="challenger").version == retrain_version

    tag_version(settings, retrain_version, {"gate": "failed"})
    assert _tags(settings, retrain_version)["gate"] == "failed"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("1.1.0", (1, 1, 0)),
        (" 2.10.3 ", (2, 10, 3)),
        ("1.2.0-rc.1+cpu", (1, 2, 0)),
        ("v1.0.0", None),
        ("1.0", None),
        ("01.0.0", None),
        ("1.0.0.0", None),
        (None, None),
    ],
)
def test_parse_semver_takes_semantic_versions_only(text, parsed):
    from mindlens.registry import parse_semver

    assert parse_semver(text) == parsed
