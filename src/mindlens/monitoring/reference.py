"""The drift reference of a model: what its predictions look like on the validation split.

A bundle may ship ``drift_reference.json`` beside its ``analyzer.json`` (the V1 release does:
``mindlens monitoring reference models/v1``); for any other champion the service computes
one from the processed validation split in the background and caches it in the state folder,
so a model trained by the pipeline gets drift gauges without a change to training.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

from mindlens.config import Settings
from mindlens.monitoring.drift import REFERENCE_FILE, Observation, Reference

log = logging.getLogger(__name__)


def validation_texts(settings: Settings, max_texts: int) -> list[str]:
    """A seeded sample of validation documents, the same number from every prepared source
    (articles, memes, arguments, headlines: thousands of headlines must not drown the rest)."""
    from mindlens.data.dataset import Manifest

    documents = Manifest.read(settings.paths.processed_data).table("documents")
    val = documents[(documents["split"] == "val") & (documents["text"].str.strip() != "")]
    sources = sorted(val["source"].unique())
    rng = random.Random(settings.data.seed)
    texts: list[str] = []
    for i, source in enumerate(sources):
        quota = (max_texts - len(texts)) // (len(sources) - i)  # unused quota passes on
        pool = val.loc[val["source"] == source, "text"].tolist()
        texts += rng.sample(pool, quota) if len(pool) > quota else pool
    if not texts:
        raise ValueError(f"no validation documents in {settings.paths.processed_data}")
    return texts


def _content_hash(settings: Settings) -> str:
    """Which prepared dataset a reference was computed on."""
    from mindlens.data.dataset import Manifest

    return Manifest.read(settings.paths.processed_data).content_hash


def build_reference(analyzer: Any, texts: list[str], source: str = "") -> Reference:
    """Analyse ``texts`` at the analyzer's own threshold (what ``/analyze`` reports by default)."""
    observations = []
    for text in texts:
        result = analyzer.analyze(text)
        observations.append(Observation.from_result(len(text), result["spans"], result["min_confidence"]))
    return Reference.from_observations(
        observations,
        source=source,
        min_confidence=getattr(analyzer, "min_confidence", None),
        meta={"model": getattr(analyzer, "name", "")},
    )


def bundle_reference_path(folder: Path) -> Path:
    """Where a bundle keeps its reference: beside its analyzer.json."""
    from mindlens.models.analyzer import find_bundle

    return find_bundle(Path(folder)).parent / REFERENCE_FILE


def read_bundle_reference(folder: Path) -> Reference | None:
    """The reference a bundle ships, or None (none shipped, or not a bundle folder)."""
    try:
        path = bundle_reference_path(folder)
    except FileNotFoundError:
        return None
    if not path.is_file():
        return None
    try:
        return Reference.load(path)
    except (ValueError, KeyError) as err:
        log.warning("ignoring %s: %s", path, err)
        return None


def cached_reference_path(settings: Settings, name: str, version: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{name}-v{version}")
    return settings.paths.drift_references / f"{safe}.json"


def computed_reference(settings: Settings, analyzer: Any, name: str, version: str) -> Reference:
    """The cached reference of a registered version, computed on first use."""
    path = cached_reference_path(settings, name, version)
    if path.is_file():
        try:
            return Reference.load(path)
        except (ValueError, KeyError):
            pass
    texts = validation_texts(settings, settings.monitoring.reference_max_texts)
    reference = build_reference(
        analyzer, texts, source=f"validation split of {settings.paths.processed_data}"
    )
    reference.meta["data_content_hash"] = _content_hash(settings)
    reference.save(path)
    log.info("drift reference for %s v%s: %d validation texts -> %s", name, version, len(texts), path)
    return reference


def write_bundle_reference(settings: Settings, folder: Path, max_texts: int | None = None) -> Path:
    """Analyse the validation split with the bundle in ``folder`` and write its reference there;
    a release folder's checksums are refreshed so ``read_release`` still accepts it."""
    from mindlens.models.analyzer import Analyzer
    from mindlens.training.release import RELEASE, refresh_release_files

    analyzer = Analyzer.load(folder)
    texts = validation_texts(settings, max_texts or settings.monitoring.reference_max_texts)
    reference = build_reference(analyzer, texts, source="validation split")
    reference.meta["data_content_hash"] = _content_hash(settings)
    path = reference.save(bundle_reference_path(folder))
    if (Path(folder) / RELEASE).is_file():
        refresh_release_files(Path(folder))
    return path
