"""The model registry on MLflow: register, tag, alias, promote, roll back, read.

Every new version goes through ``register_version``: the standard tags (``semver``,
``changelog``, ``run_id``, the selection metric of its run, the caller's extra tags such as
``retrain_run_id``) and, optionally, an alias set through ``promote`` (which records the
version the alias leaves as ``previous_<alias>``, for ``rollback``). Its three callers:
``register_if_better`` (the pipeline: ``champion`` if it beats the current one, else
``challenger``), the retrain job (``challenger``; the gate decides the rest) and the
shipped release (``champion``). Serving reads the champion's bundle files, never a loose
file on disk.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindlens.config import Settings
from mindlens.tracking import configure_mlflow, mlflow_client

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mindlens.models.analyzer import Analyzer

log = logging.getLogger(__name__)


CHALLENGER = "challenger"
# Tags every registered version carries (register_version); the selection metric's own
# name (``train.selection.metric``) is added when its run logged it.
STANDARD_TAGS = ("semver", "changelog", "run_id")


class NoChampionError(LookupError):
    """The registry has no version under the champion alias yet."""


@dataclass(frozen=True)
class ChampionInfo:
    name: str
    version: str
    run_id: str | None
    metric: float | None
    semver: str | None = None


@dataclass(frozen=True)
class RegistrationResult:
    name: str
    version: str
    promoted: bool
    metric_name: str
    candidate_metric: float
    champion_metric: float | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RegisteredVersion:
    """A new version as ``register_version`` left it: its tags and the alias it got."""

    name: str
    version: str
    semver: str
    changelog: str
    run_id: str
    metric_name: str
    metric: float | None
    alias: str | None = None
    previous: str | None = None  # the version the alias pointed at before
    tags: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _aliased(client: MlflowClient, settings: Settings, alias: str | None) -> tuple[str, str, ModelVersion]:
    """(registered name, alias, the version behind it); NoChampionError when unset."""
    from mlflow.exceptions import MlflowException

    name, alias = settings.mlflow.registered_model, alias or settings.mlflow.champion_alias
    try:
        return name, alias, client.get_model_version_by_alias(name, alias)
    except MlflowException as err:
        raise NoChampionError(f"no '{alias}' version of registered model '{name}'") from err


def selection_metric(settings: Settings, run_id: str | None, client: Any = None) -> float | None:
    """The run's value of the selection metric (``train.selection.metric``), None if unlogged."""
    if not run_id:
        return None
    client = client or mlflow_client(settings)
    return client.get_run(run_id).data.metrics.get(settings.train.selection_metric)


def champion_info(settings: Settings, alias: str | None = None) -> ChampionInfo:
    """The version behind the alias and its selection metric."""
    client = mlflow_client(settings)
    name, alias, version = _aliased(client, settings, alias)
    metric = selection_metric(settings, version.run_id, client)
    return ChampionInfo(
        name, str(version.version), version.run_id, metric, (version.tags or {}).get("semver")
    )


def next_semver(existing: list[str | None]) -> str:
    """The next minor version after the highest semantic version registered (1.0.0 first)."""
    versions = []
    for text in existing:
        try:
            versions.append(tuple(int(part) for part in (text or "").split("+")[0].split(".")[:3]))
        except ValueError:
            continue
    versions = [v for v in versions if len(v) == 3]
    if not versions:
        return "1.0.0"
    major, minor, _ = max(versions)
    return f"{major}.{minor + 1}.0"


def register_version(
    settings: Settings,
    model_uri: str,
    *,
    run_id: str,
    changelog: str,
    semver: str | None = None,
    tags: dict[str, str] | None = None,
    alias: str | None = None,
) -> RegisteredVersion:
    """Register ``model_uri`` as a new version of ``mlflow.registered_model``.

    Its tags: ``semver`` (given, else the next minor version after the highest one
    registered), ``changelog``, ``run_id`` (the run that logged the model), the selection
    metric of that run under its own name (when logged), and ``tags`` (extra ones, e.g.
    ``retrain_run_id``; they may not replace a standard tag). With ``alias``, the alias is
    moved to the new version through ``promote``.
    """
    import mlflow

    client = mlflow_client(settings)
    name = settings.mlflow.registered_model
    metric_name = settings.train.selection_metric
    metric = selection_metric(settings, run_id, client)
    if semver is None:
        existing = client.search_model_versions(f"name = '{name}'")
        semver = next_semver([(v.tags or {}).get("semver") for v in existing])
    standard = {"semver": semver, "changelog": changelog, "run_id": run_id}
    if metric is not None:
        standard[metric_name] = str(metric)
    clash = sorted(set(tags or {}) & set(standard))
    if clash:
        raise ValueError(f"extra tags may not replace the standard ones: {clash}")
    all_tags = standard | dict(tags or {})
    version = str(mlflow.register_model(model_uri, name, tags=all_tags).version)
    moved = promote(settings, version, alias)["previous"] if alias else None
    previous = None if moved is None else str(moved)
    log.debug("registered %s v%s with tags %s (alias %s)", name, version, all_tags, alias)
    return RegisteredVersion(
        name, version, semver, changelog, run_id, metric_name, metric, alias, previous, all_tags
    )


def tag_version(settings: Settings, version: str, tags: dict[str, str]) -> None:
    """Add (or replace) tags on a registered version, e.g. the retrain gate's verdict."""
    client = mlflow_client(settings)
    name = settings.mlflow.registered_model
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def register_if_better(settings: Settings, run_id: str, model_uri: str) -> RegistrationResult:
    """Register the run's model as a new version; promote it if it beats the champion.

    Compared on the selection metric where both runs logged it. Where one of them has no
    protocol figure (a model never cross-validated: V1, a transformer, a run trained outside
    the pipeline), both are compared on the legacy split metric it estimates
    (``cv_flc_f1`` -> ``val_flc_f1``) and the reason says so, rather than a champion being
    replaced by default or a candidate refused."""
    client = mlflow_client(settings)
    metric_name, legacy = settings.train.selection_metric, settings.train.selection.legacy_metric
    mine = client.get_run(run_id).data.metrics
    if metric_name not in mine and legacy not in mine:
        raise ValueError(f"run {run_id} has no metric '{metric_name}' to compare on")
    try:
        current = champion_info(settings)
    except NoChampionError:
        current = None
    theirs = client.get_run(current.run_id).data.metrics if current and current.run_id else {}
    compared, note = metric_name, ""
    if metric_name not in mine or (current is not None and metric_name not in theirs and legacy in theirs):
        compared = legacy
        note = f" ({metric_name} not on both runs: compared on the legacy split)"
    candidate = mine.get(compared)
    if candidate is None:  # the champion has only the legacy metric, the candidate only the protocol one
        compared, candidate, note = metric_name, mine[metric_name], ""
    champion_metric = theirs.get(compared)
    if current is None:
        promoted, reason = True, "no champion yet"
    elif champion_metric is None or candidate > champion_metric:
        promoted, reason = True, f"{compared} {candidate:.4f} > champion's {champion_metric}{note}"
    else:
        promoted = False
        reason = f"{compared} {candidate:.4f} <= champion v{current.version}'s {champion_metric:.4f}{note}"
    run_name = client.get_run(run_id).info.run_name or run_id[:8]
    registered = register_version(
        settings,
        model_uri,
        run_id=run_id,
        changelog=f"{run_name}: {compared} {candidate:.4f}",
        # the best candidate that lost stays visible as the challenger
        alias=settings.mlflow.champion_alias if promoted else CHALLENGER,
    )
    log.info("registered %s v%s (promoted=%s: %s)", registered.name, registered.version, promoted, reason)
    return RegistrationResult(
        registered.name, registered.version, promoted, compared, candidate, champion_metric, reason
    )


def download_champion(settings: Settings, dst: Path, alias: str | None = None) -> tuple[ChampionInfo, Path]:
    """Fetch the champion's artifacts into ``dst``; return its info and the folder."""
    import mlflow

    info = champion_info(settings, alias)
    dst.mkdir(parents=True, exist_ok=True)
    alias = alias or settings.mlflow.champion_alias
    path = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{info.name}@{alias}", dst_path=str(dst))
    return info, Path(path)


def load_analyzer(settings: Settings, model_uri: str | None = None) -> tuple[Analyzer, dict[str, Any]]:
    """The analyzer behind any MLflow model URI (``runs:/ID/analyzer``, ``models:/NAME/3``,
    ``models:/NAME@champion``, ``models:/m-...``), the champion when None.

    Returns ``(analyzer, ref)`` where ref has name, version, run_id, uri and label;
    reads the bundle's JSON only, nothing is unpickled.
    """
    import tempfile

    import mlflow

    from mindlens.models.analyzer import Analyzer

    configure_mlflow(settings)
    with tempfile.TemporaryDirectory() as tmp:
        if model_uri is None:
            info, path = download_champion(settings, Path(tmp))
            uri = f"models:/{info.name}@{settings.mlflow.champion_alias}"
            return Analyzer.load(path), {
                "name": info.name,
                "version": info.version,
                "run_id": info.run_id,
                "uri": uri,
                "label": f"{info.name} v{info.version}",
            }
        downloaded = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp)
        analyzer = Analyzer.load(Path(downloaded))
        return analyzer, {
            "name": analyzer.name,
            "version": None,
            "run_id": analyzer.metadata.get("run_id"),
            "uri": model_uri,
            "label": model_uri,
        }


def list_versions(settings: Settings) -> list[dict[str, Any]]:
    """Every registered version with its aliases, semantic version and selection metric."""
    client = mlflow_client(settings)
    name = settings.mlflow.registered_model
    rows: list[dict[str, Any]] = []
    found = client.search_model_versions(f"name = '{name}'")
    for number in sorted(int(v.version) for v in found):
        version = client.get_model_version(name, str(number))  # search results carry no aliases
        metric = selection_metric(settings, version.run_id, client)
        rows.append(
            {
                "version": str(version.version),
                "aliases": sorted(version.aliases or []),
                "semver": (version.tags or {}).get("semver"),
                "run_id": version.run_id,
                settings.train.selection_metric: metric,
                "changelog": (version.tags or {}).get("changelog"),
            }
        )
    return rows


def promote(settings: Settings, version: str, alias: str | None = None) -> dict[str, object]:
    """Point an alias (default: champion) at a version; the version it replaces is recorded
    on the new one so ``rollback`` can return to it."""
    from mlflow.exceptions import MlflowException

    client = mlflow_client(settings)
    name, alias = settings.mlflow.registered_model, alias or settings.mlflow.champion_alias
    try:
        client.get_model_version(name, version)
    except MlflowException as err:
        raise LookupError(f"no version {version} of registered model '{name}'") from err
    previous = None
    try:
        previous = str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        pass
    if previous and previous != version:
        client.set_model_version_tag(name, version, f"previous_{alias}", previous)
    client.set_registered_model_alias(name, alias, version)
    log.info("%s: alias %s -> v%s (was %s)", name, alias, version, previous)
    return {"name": name, "alias": alias, "version": version, "previous": previous}


def rollback(settings: Settings, alias: str | None = None) -> dict[str, object]:
    """Return the alias to the version it pointed at before the last promotion."""
    client = mlflow_client(settings)
    name, alias, current = _aliased(client, settings, alias)
    previous = (current.tags or {}).get(f"previous_{alias}")
    if not previous:
        raise LookupError(f"v{current.version} records no earlier '{alias}' to roll back to")
    client.set_registered_model_alias(name, alias, previous)
    return {"name": name, "alias": alias, "version": previous, "rolled_back_from": str(current.version)}


def register_release(settings: Settings, folder: Path | None = None) -> dict[str, Any]:
    """Register a release as a new version carrying its semantic version, changelog and
    the champion alias (the quick start does this when the registry has no champion)."""
    from mindlens.training.release import SHIPPED, log_release

    run_id, model_uri, release = log_release(settings, folder or SHIPPED, {"shipped": "true"})
    registered = register_version(
        settings,
        model_uri,
        run_id=run_id,
        changelog=release["changelog"],
        semver=release["version"],
        alias=settings.mlflow.champion_alias,
    )
    log.info(
        "registered shipped release %s as %s v%s (champion)",
        release["version"],
        registered.name,
        registered.version,
    )
    return {
        "name": registered.name,
        "version": registered.version,
        "semver": release["version"],
        "run_id": run_id,
    }
