"""The family registry: every family resolves to a complete record, aliases and unknown
names behave, the configuration and the pipeline take families from it, and each
notebook declares the parameters the registry hands it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from mindlens import families
from mindlens.config import BaselineSettings, Candidate
from mindlens.families import FAMILIES, family, transformer_family
from mindlens.models.tagger_config import HEADS
from mindlens.notebooks import NOTEBOOK_DIR
from mindlens.training.train_config import TaggerTrainConfig

TRANSFORMERS = ["span", "sentence", "tc", "clickbait", "multitask"]
PIPELINE_PARAMETERS = {"manifest_path", "run_name", "result_path"}  # added by pipeline and papermill


def test_every_family_resolves_to_a_complete_record() -> None:
    assert list(FAMILIES) == ["tfidf", *TRANSFORMERS]
    for name in families.names():
        found = family(name)
        assert found is FAMILIES[found.name] and found.description
        assert (NOTEBOOK_DIR / f"{found.notebook}.ipynb").is_file(), found.notebook
        assert set(found.heads) <= set(HEADS)
        if found.is_transformer:
            assert found.settings_class is TaggerTrainConfig and found.notebook == "train"
            assert found.early_stopping and found.early_stopping.startswith("val_")
            assert found.report_metrics and all(m.startswith("val_") for m in found.report_metrics)
        else:
            assert found.settings_class is BaselineSettings and found.notebook == "train_baseline"
    assert family("multitask").heads == HEADS
    assert family("span").heads == ("token", "sentence")
    assert family("tfidf").heads == () and not family("tfidf").is_transformer


def test_aliases_name_their_family() -> None:
    assert family("tagger") is family("span")
    assert families.ALIASES == {"tagger": "span"}
    assert families.names() == ["tfidf", "span", "tagger", "sentence", "tc", "clickbait", "multitask"]
    assert families.names(transformer_only=True) == ["span", "tagger", *TRANSFORMERS[1:]]
    assert "alias tagger" in families.help_text()


def test_unknown_family_error_names_the_known_ones() -> None:
    with pytest.raises(ValueError) as err:
        family("gpt")
    assert str(err.value) == (
        "unknown model family 'gpt': expected one of tfidf, span, tagger, sentence, tc, clickbait, multitask"
    )
    with pytest.raises(
        ValueError, match="'tfidf' has no network to train here: expected one of span, tagger"
    ):
        transformer_family("tfidf")


def test_config_validates_candidates_against_the_registry() -> None:
    assert Candidate(name="old", family="tagger").family == "tagger"  # kept as given
    for name in families.names():
        Candidate(name="c", family=name)
    with pytest.raises(ValidationError, match="unknown model family 'bert': expected one of tfidf"):
        Candidate(name="c", family="bert")


def test_training_config_takes_heads_and_early_stopping_from_the_family() -> None:
    config = TaggerTrainConfig(family="tagger")
    assert config.family == "span" and config.heads == ["token", "sentence"]
    assert config.early_stopping == "val_flc_f1_tuned"
    assert TaggerTrainConfig(family="tc").early_stopping == "val_tc_micro_f1"
    with pytest.raises(ValueError, match="no network to train"):
        TaggerTrainConfig(family="tfidf")


@pytest.mark.parametrize("name", families.names())
def test_notebook_parameters_are_declared_by_the_notebook(name: str) -> None:
    import papermill

    found = family(name)
    parameters = found.notebook_parameters({"epochs": 2} if found.is_transformer else {"C": 1.0})
    if found.is_transformer:
        assert parameters == {"family": found.name, "config": {"epochs": 2}}
    else:
        assert parameters == {"overrides": {"C": 1.0}}
    declared = set(papermill.inspect_notebook(str(NOTEBOOK_DIR / f"{found.notebook}.ipynb")))
    assert set(parameters) | PIPELINE_PARAMETERS <= declared


def test_pipeline_runs_the_familys_notebook(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mindlens import notebooks, pipeline
    from mindlens.config import Settings

    calls = []

    def fake_run(settings, name, parameters):  # type: ignore[no-untyped-def]
        calls.append((name, parameters))
        return notebooks.NotebookRun(tmp_path / "nb.ipynb", tmp_path / "nb.html", {"run_id": "r"})

    monkeypatch.setattr(notebooks, "run_notebook", fake_run)
    scored = []  # the protocol's figures are tested in test_pipeline_stages; here: called per candidate
    monkeypatch.setattr(
        "mindlens.pipeline.training.protocol_metrics",
        lambda candidate, *_: scored.append(candidate["name"]) or {"cv_flc_f1": 0.1},
    )
    settings = Settings(state_dir=tmp_path)
    candidate = {"name": "old-tagger", "family": "tagger", "params": {"epochs": 1}}
    assert pipeline.train_candidate(candidate, "m.json", settings)["candidate"] == "old-tagger"
    pipeline.train_candidate({"name": "tfidf", "family": "tfidf"}, "m.json", settings)
    assert calls == [
        (
            "train",
            {"manifest_path": "m.json", "run_name": "old-tagger", "family": "span", "config": {"epochs": 1}},
        ),
        ("train_baseline", {"manifest_path": "m.json", "run_name": "tfidf", "overrides": {}}),
    ]
    assert scored == ["old-tagger", "tfidf"]
    with pytest.raises(ValueError, match="candidate x: unknown model family 'gpt'"):
        pipeline.train_candidate({"name": "x", "family": "gpt"}, "m.json", settings)


def test_registry_and_configuration_import_nothing_heavy() -> None:
    code = (
        "import sys; import mindlens.families, mindlens.config, mindlens.pipeline; "
        "bad = [m for m in ('torch', 'transformers', 'mlflow', 'numpy', 'mindlens.training') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
