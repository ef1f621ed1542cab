"""Champion/challenger bookkeeping on the MLflow registry.

A run's analyzer becomes a new version of the registered model; it takes the
``champion`` alias only if it beats the current champion on the configured
validation metric (or no champion exists). Serving reads the champion's
bundle files, never a loose file on disk.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from mindlens.config import Settings
from mindlens.tracking import configure_mlflow

log = logging.getLogger(__name__)


CHALLENGER = "challenger"


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


def _client(settings: Settings):  # type: ignore[no-untyped-def]
    import mlflow

    configure_mlflow(settings)
    return mlflow.MlflowClient()


def _aliased(client, settings: Settings, alias: str | None):  # type: ignore[no-untyped-def]
    """(registered name, alias, the version behind it); NoChampionError when unset."""
    from mlflow.exceptions import MlflowException

    name, alias = settings.mlflow.registered_model, alias or settings.mlflow.champion_alias
    try:
        return name, alias, client.get_model_version_by_alias(name, alias)
    except MlflowException as err:
        raise NoChampionError(f"no '{alias}' version of registered model '{name}'") from err


def champion_info(settings: Settings, alias: str | None = None) -> ChampionInfo:
    """The version behind the alias and its selection metric."""
    client = _client(settings)
    name, alias, version = _aliased(client, settings, alias)
    metric = None
    if version.run_id:
        metric = client.get_run(version.run_id).data.metrics.get(settings.train.selection_metric)
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


def register_if_better(settings: Settings, run_id: str, model_uri: str) -> RegistrationResult:
    """Register the run's model as a new version; promote it if it beats the champion."""
    import mlflow

    client = _client(settings)
    metric_name = settings.train.selection_metric
    candidate = client.get_run(run_id).data.metrics.get(metric_name)
    if candidate is None:
        raise ValueError(f"run {run_id} has no metric '{metric_name}' to compare on")
    try:
        current = champion_info(settings)
    except NoChampionError:
        current = None
    name = settings.mlflow.registered_model
    semver = next_semver([v.tags.get("semver") for v in client.search_model_versions(f"name = '{name}'")])
    run_name = client.get_run(run_id).info.run_name or run_id[:8]
    version = mlflow.register_model(
        model_uri,
        name,
        tags={
            metric_name: str(candidate),
            "semver": semver,
            "changelog": f"{run_name}: {metric_name} {candidate:.4f}",
        },
    )
    client.set_model_version_tag(name, version.version, "run_id", run_id)
    champion_metric = current.metric if current else None
    if current is None:
        promoted, reason = True, "no champion yet"
    elif champion_metric is None or candidate > champion_metric:
        promoted, reason = True, f"{metric_name} {candidate:.4f} > champion's {champion_metric}"
    else:
        promoted = False
        reason = f"{metric_name} {candidate:.4f} <= champion v{current.version}'s {champion_metric:.4f}"
    if promoted:
        promote(settings, str(version.version))
    else:  # the best candidate that lost stays visible as the challenger
        promote(settings, str(version.version), alias=CHALLENGER)
    log.info("registered %s v%s (promoted=%s: %s)", name, version.version, promoted, reason)
    return RegistrationResult(
        name, str(version.version), promoted, metric_name, candidate, champion_metric, reason
    )


def download_champion(settings: Settings, dst: Path, alias: str | None = None) -> tuple[ChampionInfo, Path]:
    """Fetch the champion's artifacts into ``dst``; return its info and the folder."""
    import mlflow

    info = champion_info(settings, alias)
    dst.mkdir(parents=True, exist_ok=True)
    alias = alias or settings.mlflow.champion_alias
    path = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{info.name}@{alias}", dst_path=str(dst))
    return info, Path(path)


def load_analyzer(settings: Settings, model_uri: str | None = None):  # type: ignore[no-untyped-def]
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
        path = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp)
        analyzer = Analyzer.load(Path(path))
        return analyzer, {
            "name": analyzer.name,
            "version": None,
            "run_id": analyzer.metadata.get("run_id"),
            "uri": model_uri,
            "label": model_uri,
        }


def list_versions(settings: Settings) -> list[dict[str, object]]:
    """Every registered version with its aliases, semantic version and selection metric."""
    client = _client(settings)
    name = settings.mlflow.registered_model
    rows = []
    found = client.search_model_versions(f"name = '{name}'")
    for number in sorted(int(v.version) for v in found):
        version = client.get_model_version(name, str(number))  # search results carry no aliases
        metric = None
        if version.run_id:
            metric = client.get_run(version.run_id).data.metrics.get(settings.train.selection_metric)
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

    client = _client(settings)
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
    client = _client(settings)
    name, alias, current = _aliased(client, settings, alias)
    previous = (current.tags or {}).get(f"previous_{alias}")
    if not previous:
        raise LookupError(f"v{current.version} records no earlier '{alias}' to roll back to")
    client.set_registered_model_alias(name, alias, previous)
    return {"name": name, "alias": alias, "version": previous, "rolled_back_from": str(current.version)}
