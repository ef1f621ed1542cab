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

import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import Sequence
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
STANDARD_TAGS = ("semver", "changelog", "run_id", "artifacts_sha256")


# A version's artifact checksum: sha256 over the sorted (relative path, file sha256) pairs of
# its model artifacts, recorded as a version tag when it is registered, checked on every load.
CHECKSUM_TAG = "artifacts_sha256"
RELEASE_MANIFEST = "release.json"  # a release bundle's own per-file sha256 list (training.release)
# written by MLflow into a models:/ download (the name and version), not part of the artifacts
_DOWNLOAD_ONLY = frozenset({"registered_model_meta"})


class NoChampionError(LookupError):
    """The registry has no version under the champion alias yet."""


class RegistryError(RuntimeError):
    """The registry itself is missing or cannot be read (not: it has no champion). The message
    is fit for operators and clients: no SQL, no stack trace."""


class ArtifactChecksumError(RuntimeError):
    """A version's downloaded artifacts do not match the checksums recorded for them (corrupt)."""


@dataclass(frozen=True)
class ChampionInfo:
    name: str
    version: str
    run_id: str | None
    metric: float | None
    semver: str | None = None
    checksum: str | None = None  # the CHECKSUM_TAG recorded at registration (None: older versions)


def _sqlite_path(uri: str | None) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI, None for any other store."""
    if not uri or not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///") :].split("?", 1)[0])


def check_registry(settings: Settings, *, create: bool = False) -> None:
    """``RegistryError`` when the registry database is missing (unless ``create``: MLflow then
    makes an empty one on first use) or exists but cannot be read as an MLflow registry.
    Only SQLite stores are checked here; a server-backed store shows its faults on first use."""
    path = _sqlite_path(settings.mlflow.tracking_uri)
    if path is None:
        return
    if not path.exists():
        if create:
            log.warning("no registry database at %s; an empty one will be created", path)
            return
        raise RegistryError(
            f"no model registry database at {path}: run `mindlens registry bootstrap` (or `make run`) "
            "to create it with the shipped model, point MINDLENS_STATE_DIR / MINDLENS_MLFLOW__TRACKING_URI "
            "at the existing one, or set MINDLENS_SERVING__CREATE_REGISTRY=true to start with an empty one"
        )
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            connection.execute("SELECT count(*) FROM registered_models").fetchone()
    except sqlite3.Error as err:
        raise RegistryError(
            f"the model registry database {path} cannot be read as an MLflow registry "
            f"({type(err).__name__}); restore it from a backup or move it away and run "
            "`mindlens registry bootstrap`"
        ) from err


def artifacts_checksum(folder: Path) -> str:
    """sha256 over the sorted (relative path, file sha256) pairs of every file under ``folder``."""
    from mindlens.training.release import file_sha256

    digest = hashlib.sha256()
    files = (
        p
        for p in Path(folder).rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in _DOWNLOAD_ONLY
    )
    for path in sorted(files):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + file_sha256(path).encode())
    return digest.hexdigest()


def verify_artifacts(folder: Path, expected: str | None) -> bool:
    """Check a downloaded version: its recorded checksum (``expected``) and, for a release
    bundle, every file against its ``release.json``. ``ArtifactChecksumError`` naming the
    mismatch; True when something was verified, False when the version records no checksums."""
    from mindlens.training.release import file_sha256

    verified = False
    for manifest in sorted(Path(folder).rglob(RELEASE_MANIFEST)):
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files") or {}
        for name, sha in files.items():
            file = manifest.parent / name
            if not file.is_file():
                raise ArtifactChecksumError(f"artifact {name} listed in {RELEASE_MANIFEST} is missing")
            if file_sha256(file) != sha:
                raise ArtifactChecksumError(
                    f"artifact {name} does not match its sha256 in {RELEASE_MANIFEST}"
                )
        verified = verified or bool(files)
    if expected is not None:
        if artifacts_checksum(folder) != expected:
            raise ArtifactChecksumError(
                f"the artifacts do not match the {CHECKSUM_TAG} recorded at registration"
            )
        verified = True
    return verified


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


# What MLflow answers when the alias or the registered model does not exist (not a fault)
_ABSENT = ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")


def _aliased(client: MlflowClient, settings: Settings, alias: str | None) -> tuple[str, str, ModelVersion]:
    """(registered name, alias, the version behind it); NoChampionError when unset,
    RegistryError when the registry cannot be read (a database fault is not "no champion")."""
    from mlflow.exceptions import MlflowException

    name, alias = settings.mlflow.registered_model, alias or settings.mlflow.champion_alias
    try:
        return name, alias, client.get_model_version_by_alias(name, alias)
    except MlflowException as err:
        if err.error_code in _ABSENT:
            raise NoChampionError(f"no '{alias}' version of registered model '{name}'") from err
        raise RegistryError(f"the model registry cannot be read ({err.error_code})") from err


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
    tags = version.tags or {}
    return ChampionInfo(
        name, str(version.version), version.run_id, metric, tags.get("semver"), tags.get(CHECKSUM_TAG)
    )


_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")


def parse_semver(text: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a semantic version such as ``1.1.0`` or ``1.2.0-rc.1+cpu``;
    None for anything else, so a typo never becomes a registry tag."""
    match = _SEMVER.fullmatch((text or "").strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def next_semver(existing: list[str | None]) -> str:
    """The next minor version after the highest semantic version registered (1.0.0 first)."""
    versions = [v for v in map(parse_semver, existing) if v is not None]
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
    checksum = _model_checksum(model_uri)  # verified whenever serving loads the version
    if checksum is not None:
        standard[CHECKSUM_TAG] = checksum
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


def _model_checksum(model_uri: str) -> str | None:
    """The CHECKSUM_TAG of a logged model's artifacts (None, with a warning, if unreadable)."""
    import tempfile

    import mlflow

    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp)
            return artifacts_checksum(Path(path))
    except Exception as err:  # registering must not fail on it: the version loads unverified
        log.warning("no artifact checksum for %s: %s: %s", model_uri, type(err).__name__, err)
        return None


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


def register_release(
    settings: Settings, folder: Path | None = None, *, champion: bool = True
) -> dict[str, Any]:
    """Register a release as a new version carrying its semantic version, changelog, the
    ``shipped`` tag and (with ``champion``) the champion alias."""
    from mindlens.training.release import SHIPPED, log_release

    run_id, model_uri, release = log_release(settings, folder or SHIPPED, {"shipped": "true"})
    registered = register_version(
        settings,
        model_uri,
        run_id=run_id,
        changelog=release["changelog"],
        semver=release["version"],
        tags={"shipped": "true"},
        alias=settings.mlflow.champion_alias if champion else None,
    )
    log.info(
        "registered shipped release %s as %s v%s", release["version"], registered.name, registered.version
    )
    return {
        "name": registered.name,
        "version": registered.version,
        "semver": release["version"],
        "run_id": run_id,
        "champion": champion,
    }


def _semver_key(text: str | None) -> tuple[int, ...]:
    return parse_semver(text) or ()


def bootstrap_releases(settings: Settings, folders: Sequence[Path]) -> dict[str, Any]:
    """Register the shipped releases the registry lacks (oldest first, so rollback has a
    path), and make the newest one champion when there is no champion, or when it is new
    here and the champion is an older shipped release (an upgrade). A model trained and
    promoted here stays champion, and so does a release someone rolled back to."""
    from mindlens.training.release import read_release

    client = mlflow_client(settings)
    name = settings.mlflow.registered_model
    shipped = {
        (v.tags or {}).get("semver"): str(v.version)
        for v in client.search_model_versions(f"name = '{name}'")
        if (v.tags or {}).get("shipped") == "true"
    }
    releases = sorted(((read_release(f)["version"], f) for f in folders), key=lambda r: _semver_key(r[0]))
    added = []
    for semver, folder in releases:
        if semver not in shipped:
            shipped[semver] = register_release(settings, folder, champion=False)["version"]
            added.append(semver)
    if not releases:
        return {"registered": added, "champion": None}
    newest = releases[-1][0]
    try:
        current = champion_info(settings)
        replace = (
            newest in added
            and current.version in shipped.values()
            and _semver_key(current.semver) < _semver_key(newest)
        )
    except NoChampionError:
        current, replace = None, True
    if replace:
        promote(settings, shipped[newest])
        log.info("champion: shipped release %s (v%s)", newest, shipped[newest])
    champion = shipped[newest] if replace else (current.version if current else None)
    return {
        "registered": added,
        "champion": champion,
        "champion_semver": newest if replace else current.semver if current else None,
    }
