"""Release bundles: a complete analyzer shipped in the repository, so a new user can
analyse text right after the quick start, without CPU-hours of training.

A release folder holds the analyzer bundle (ONNX int8 span model, tokenizer,
compact JSON models) and ``release.json``: version, changelog line, taxonomy
version, the metrics it reached and a sha256 for every file, checked before the
bundle is registered.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindlens import taxonomy
from mindlens.config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from mindlens.models.analyzer import Analyzer

log = logging.getLogger(__name__)
RELEASE = "release.json"
# The releases shipped in the repository, oldest first; the last is the default champion.
# models/v2.1 (1.1.1) is V2 with batch-invariant int8 (``mindlens registry requantize``).
SHIPPED_RELEASES = (
    PROJECT_ROOT / "models" / "v1",
    PROJECT_ROOT / "models" / "v2",
    PROJECT_ROOT / "models" / "v2.1",
)
SHIPPED = SHIPPED_RELEASES[-1]


class ReleaseError(ValueError):
    """A release folder is incomplete or its files do not match their checksums."""


def taxonomy_version() -> str:
    """A short hash of the technique ids and traits: bundles say which taxonomy they speak."""
    text = json.dumps([(t.id, t.trait) for t in taxonomy.TECHNIQUES])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks (release checksums, registry artifact checks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_release(
    folder: Path,
    *,
    version: str,
    changelog: str,
    metrics: dict[str, float],
    extra: dict[str, Any] | None = None,
) -> Path:
    files = {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != RELEASE
    }
    release = {
        "version": version,
        "changelog": changelog,
        "taxonomy_version": taxonomy_version(),
        "created": time.strftime("%Y-%m-%d"),
        "metrics": metrics,
        "files": files,
        **(extra or {}),
    }
    path = folder / RELEASE
    path.write_text(json.dumps(release, indent=2, sort_keys=True) + "\n")
    return path


def refresh_release_files(folder: Path) -> Path:
    """Re-checksum a release's files after a deliberate addition (e.g. its drift reference),
    keeping version, metrics and everything else as they were."""
    path = folder / RELEASE
    release = json.loads(path.read_text())
    release["files"] = {
        p.relative_to(folder).as_posix(): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != RELEASE
    }
    path.write_text(json.dumps(release, indent=2, sort_keys=True) + "\n")
    return path


def read_release(folder: Path) -> dict[str, Any]:
    """The release manifest, after checking every file against its checksum."""
    path = Path(folder) / RELEASE
    if not path.is_file():
        raise ReleaseError(f"{folder} has no {RELEASE}")
    release = json.loads(path.read_text())
    for name, expected in release["files"].items():
        file = Path(folder) / name
        if not file.is_file():
            raise ReleaseError(f"{folder}: {name} is missing")
        if file_sha256(file) != expected:
            raise ReleaseError(f"{folder}: {name} does not match its sha256 in {RELEASE}")
    if release["taxonomy_version"] != taxonomy_version():
        log.warning(
            "release %s was built for taxonomy %s, this code has %s",
            release["version"],
            release["taxonomy_version"],
            taxonomy_version(),
        )
    return release


def _emptied(folder: Path) -> Path:
    """``folder``, created or with its old files removed (a release is written whole)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.rglob("*"):
        if old.is_file():
            old.unlink()
    return folder


def derive_bundle(
    bundle: Path, out: Path, change: Callable[[Analyzer], None], *, fresh: bool = False
) -> Path:
    """Copy the analyzer bundle at ``bundle`` to ``out`` after ``change`` edits the loaded
    analyzer (a TC model attached, decoding tuned, a release's name). The drift reference
    comes along; a release's ``release.json`` does not (its checksums would no longer hold).
    ``fresh`` removes what ``out`` held before (a release is written whole)."""
    from mindlens.models.analyzer import Analyzer, find_bundle

    source = find_bundle(bundle).parent
    if out.resolve() == source.resolve():
        raise ValueError("write the changed bundle to a new folder, not over its source")
    analyzer = Analyzer.load(source)
    change(analyzer)
    if fresh:
        _emptied(out)
    out.mkdir(parents=True, exist_ok=True)
    saved = analyzer.save(out, compact=True)
    drift = source / "drift_reference.json"
    if drift.is_file():
        shutil.copyfile(drift, out / drift.name)
    return saved


def requantize_bundle(bundle: Path, out: Path, calibration: list[str]) -> Path:
    """Copy the analyzer bundle at ``bundle`` to ``out`` with its span model's int8 graph
    made batch-invariant: the same int8 weights, activation ranges fixed on ``calibration``
    sentences instead of taken per batch, and no softmax NaN guards (``served_int8``).
    Same API, same decoding, same tokenizer."""
    import onnx

    from mindlens.models.analyzer import Analyzer, find_bundle
    from mindlens.models.onnx_tagger import INT8, TOKENIZER, OnnxTagger
    from mindlens.models.quantization import calibration_feeds, served_int8

    span_model = Analyzer.load(find_bundle(bundle).parent).span_model
    if not isinstance(span_model, OnnxTagger) or span_model.folder is None:
        raise ValueError(f"{bundle} has no ONNX span model to requantize")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        graph = onnx.load(str(span_model.folder / INT8))
        onnx.save(served_int8(graph, calibration_feeds(span_model, calibration)), str(work / INT8))
        shutil.copyfile(span_model.folder / TOKENIZER, work / TOKENIZER)
        span_model.config.save(work)
        requantized = OnnxTagger.load(work, variant="int8")

        def swap(analyzer: Analyzer) -> None:
            analyzer.span_model = requantized

        return derive_bundle(bundle, out, swap, fresh=True)


def build_release(
    settings: Settings,
    tagger_folder: Path,
    out: Path,
    *,
    version: str = "1.0.0",
    changelog: str = "First production model",
    training_command: str | None = None,
    hardware: str | None = None,
) -> dict[str, Any]:
    """Export the trained tagger to ONNX (int8), add the TF-IDF document model (and the
    TF-IDF sentence or clickbait model where the tagger lacks that head), evaluate the
    whole analyzer on validation, and write the release folder."""
    from mindlens.data.dataset import MANIFEST, Manifest
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.onnx_tagger import OnnxTagger, export_onnx
    from mindlens.models.quantization import calibration_sentences
    from mindlens.models.torch_tagger import TorchTagger
    from mindlens.training.baseline import fit_clickbait_model, fit_document_model, fit_sentence_model

    manifest = Manifest.read(settings.paths.processed_data / MANIFEST)
    torch_tagger = TorchTagger.load(tagger_folder)
    config = torch_tagger.config
    with tempfile.TemporaryDirectory() as tmp:
        export_onnx(
            torch_tagger, Path(tmp) / "onnx", quantize=True, calibration=calibration_sentences(manifest)
        )
        span_model = OnnxTagger.load(Path(tmp) / "onnx", variant="int8")
        analyzer = Analyzer(
            None if config.has("sentence") else fit_sentence_model(manifest, settings),
            name=f"mindlens-{version}",
            span_model=span_model,
            min_confidence=(
                config.sentence_threshold if config.has("sentence") else settings.serving.min_confidence
            ),
            document_model=fit_document_model(manifest, settings, {"max_features": 20000}),
            clickbait_model=None if config.has("clickbait") else fit_clickbait_model(manifest, settings),
            metadata={
                "version": version,
                "backbone": config.backbone,
                "heads": config.heads,
                "context_sentences": config.context_sentences,
                "data_content_hash": manifest.content_hash,
            },
        )
        analyzer.save(_emptied(out), compact=True)
    training = {
        "command": training_command,
        "hardware": hardware,
        "best_epoch": config.metrics.get("best_epoch"),
        "wall_seconds": config.metrics.get("train_wall_seconds"),
    }
    return finish_release(settings, out, version=version, changelog=changelog, extra={"training": training})


def finish_release(
    settings: Settings,
    out: Path,
    *,
    version: str,
    changelog: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate the analyzer bundle in ``out`` on the validation split and write its
    ``release.json`` (metrics, per-technique F1, data hash, checksums, ``extra``)."""
    from mindlens.data.dataset import MANIFEST, Manifest
    from mindlens.evaluation.evaluate import evaluate_analyzer
    from mindlens.models.analyzer import Analyzer

    manifest = Manifest.read(settings.paths.processed_data / MANIFEST)
    analyzer = Analyzer.load(out)
    evaluation = evaluate_analyzer(analyzer, manifest, settings, "val")
    write_release(
        out,
        version=version,
        changelog=changelog,
        metrics=evaluation.metrics,
        extra={
            "backbone": analyzer.metadata.get("backbone"),
            "heads": analyzer.metadata.get("heads"),
            "data_content_hash": manifest.content_hash,
            "per_technique_f1": {k: v["f1"] for k, v in evaluation.reports["sentences"]["per_label"].items()},
            **(extra or {}),
        },
    )
    return read_release(out)


def release_bundle(
    settings: Settings,
    bundle: Path,
    out: Path,
    *,
    version: str,
    changelog: str,
    base: Path | None = None,
    steps: list[str] | None = None,
    protocol: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Make a release of an analyzer bundle derived from the release at ``base`` (the same
    network, other parts added or retuned): its files, its evaluation, and a ``training``
    record that keeps the base's training command and adds the ``steps`` that derived it."""
    base_release = read_release(base) if base is not None else {}

    def name_it(analyzer: Analyzer) -> None:
        analyzer.name = f"mindlens-{version}"
        analyzer.metadata = analyzer.metadata | {"version": version}

    derive_bundle(bundle, out, name_it, fresh=True)
    training = dict(base_release.get("training", {}))
    training["derived_from"] = base_release.get("version")
    training["steps"] = list(steps or [])
    extra: dict[str, Any] = {"training": training}
    if protocol is None and base_release.get("protocol"):
        # a derivation that did not re-tune (requantize, say) keeps the base's decoding: its
        # protocol figures still describe it, marked as measured on the base
        protocol = {"measured_on": base_release["version"], **base_release["protocol"]}
    if protocol is not None:
        extra["protocol"] = protocol
    return finish_release(settings, out, version=version, changelog=changelog, extra=extra)


def log_release(
    settings: Settings, folder: Path, tags: dict[str, str] | None = None
) -> tuple[str, str, dict[str, Any]]:
    """An MLflow run holding the release's metrics and its analyzer model: (run id, model URI,
    release). Logs into the active run when there is one (a training notebook's)."""
    import contextlib

    import mlflow

    from mindlens.tracking import configure_mlflow

    release = read_release(folder)
    active = mlflow.active_run()
    if active is None:
        configure_mlflow(settings)
    pyfunc_code = Path(__file__).resolve().parents[1] / "registry" / "pyfunc_model.py"
    run_tags = {"model_family": "transformer_tagger", "semver": release["version"], **(tags or {})}
    context = (
        contextlib.nullcontext(active)
        if active is not None
        else mlflow.start_run(run_name=f"release-{release['version']}")
    )
    with context as run:
        mlflow.set_tags(run_tags)
        mlflow.log_metrics({k: float(v) for k, v in release["metrics"].items()})
        mlflow.log_params(
            {
                "backbone": release.get("backbone"),
                "taxonomy_version": release["taxonomy_version"],
                "data_content_hash": release.get("data_content_hash"),
            }
        )
        mlflow.log_dict(release, "release.json")
        info = mlflow.pyfunc.log_model(
            name="analyzer", python_model=str(pyfunc_code), artifacts={"analyzer": str(folder)}
        )
        mlflow.set_tag("model_uri", info.model_uri)
    return run.info.run_id, info.model_uri, release
