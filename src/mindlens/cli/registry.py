"""``mindlens registry ...`` and ``mindlens register``: versions, aliases, releases, model cards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mindlens.cli.common import fail, print_json, processed_manifest, settings_or_exit

registry_app = typer.Typer(help="The model registry: shipped release, versions.", no_args_is_help=True)


@registry_app.command("bootstrap")
def registry_bootstrap(
    release: Annotated[
        list[Path] | None,
        typer.Option(help="Release folder (repeatable; default: every shipped release, models/v1 ...)."),
    ] = None,
) -> None:
    """Register the shipped releases the registry lacks; the newest becomes champion when
    there is none or the champion is an older shipped release."""
    from mindlens.registry import bootstrap_releases
    from mindlens.training.release import SHIPPED_RELEASES, ReleaseError

    try:
        result = bootstrap_releases(settings_or_exit(), release or list(SHIPPED_RELEASES))
    except ReleaseError as err:
        fail(str(err))
    if not result["registered"]:
        typer.echo(f"champion v{result['champion']} ({result['champion_semver']}); nothing to register")
    else:
        print_json(result)


@registry_app.command("list")
def registry_list() -> None:
    """Registered versions with aliases, semantic versions and the selection metric."""
    from mindlens.registry import list_versions

    rows = list_versions(settings_or_exit())
    if not rows:
        fail("no registered versions yet; run `mindlens registry bootstrap` or the pipeline")
    for row in rows:
        aliases = ",".join(row["aliases"]) or "-"
        metric = {k: v for k, v in row.items() if k.startswith("val_")}
        shown = ", ".join(f"{k}={v:.4f}" for k, v in metric.items() if v is not None)
        typer.echo(
            f"v{row['version']:<4} {aliases:<12} {row['semver'] or '-':<10} {shown}  "
            f"{row['changelog'] or ''}".rstrip()
        )


def _after_alias_change(result: dict[str, Any]) -> None:
    from mindlens.pipeline import notify_reload

    print_json(result | {"reload": notify_reload(settings_or_exit())})


@registry_app.command("promote")
def registry_promote(
    version: Annotated[str, typer.Argument(help="Registered version number, e.g. 3.")],
    alias: Annotated[str | None, typer.Option(help="Alias to move (default: champion).")] = None,
) -> None:
    """Point the champion (or another alias) at a version and tell the running API to reload."""
    from mindlens.registry import promote

    try:
        _after_alias_change(promote(settings_or_exit(), version, alias))
    except LookupError as err:
        fail(str(err))


@registry_app.command("rollback")
def registry_rollback(
    alias: Annotated[str | None, typer.Option(help="Alias to roll back (default: champion).")] = None,
) -> None:
    """Return the champion to the version it replaced, and tell the running API to reload."""
    from mindlens.registry import rollback

    try:
        _after_alias_change(rollback(settings_or_exit(), alias))
    except LookupError as err:
        fail(str(err))


@registry_app.command("build-release")
def registry_build_release(
    tagger: Annotated[
        Path,
        typer.Option(
            help="Trained PyTorch tagger folder (`torch/best` of `mindlens train --model span|multitask|...`)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Release folder to write (e.g. models/v1).")],
    version: Annotated[str, typer.Option(help="Semantic version of the release.")] = "1.0.0",
    changelog: Annotated[str, typer.Option(help="One-line changelog.")] = "First production model",
    training_command: Annotated[
        str | None, typer.Option(help="The command that trained the tagger (model card).")
    ] = None,
    hardware: Annotated[
        str | None, typer.Option(help="Where it was trained, e.g. '1x H100' (model card).")
    ] = None,
) -> None:
    """Export a trained tagger (ONNX int8) with the document and clickbait models as a release."""
    from mindlens.training.release import build_release

    if not tagger.is_dir():
        fail(f"no such folder: {tagger}", code=2)
    release = build_release(
        settings_or_exit(),
        tagger,
        out,
        version=version,
        changelog=changelog,
        training_command=training_command,
        hardware=hardware,
    )
    typer.echo(
        f"wrote {out}: {len(release['files'])} files, metrics: "
        + ", ".join(
            f"{k}={v:.3f}"
            for k, v in sorted(release["metrics"].items())
            if k in ("val_micro_f1", "val_flc_f1", "val_si_f1", "val_tc_micro_f1")
        )
    )


@registry_app.command("attach-tc-model")
def registry_attach_tc_model(
    bundle: Annotated[Path, typer.Option(help="Analyzer bundle or release folder, e.g. models/v1.")],
    out: Annotated[Path, typer.Option(help="Folder for the bundle with the TC model.")],
    split: Annotated[
        list[str] | None,
        typer.Option(help="Split whose gold spans it learns from (repeatable; default train)."),
    ] = None,
) -> None:
    """Fit the TC model that reads the article on the processed dataset and write a copy of
    the bundle that uses it (PTC TC predictions, evaluation, each fragment's tc_confidence)."""
    from mindlens.training.tc_context import attach_tc_model, fit_tc_model

    if not bundle.is_dir():
        fail(f"no such folder: {bundle}", code=2)
    manifest = processed_manifest()
    try:
        model = fit_tc_model(manifest, tuple(split or ["train"]))
        saved = attach_tc_model(bundle, out, model)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err), code=2)
    typer.echo(f"wrote {saved}: TC model over {len(model.labels or [])} techniques")


@registry_app.command("tune-decoding")
def registry_tune_decoding(
    bundle: Annotated[Path, typer.Option(help="Analyzer bundle or release folder, e.g. models/v1.")],
    out: Annotated[Path, typer.Option(help="Folder for the bundle with the tuned decoding.")],
    split: Annotated[
        str, typer.Option(help="Labelled PTC split the network never trained on (default val).")
    ] = "val",
    shared: Annotated[
        bool, typer.Option(help="One switch cost and sentence weight for all techniques.")
    ] = False,
    fusion: Annotated[
        bool, typer.Option(help="Also try mixing the sentence head into token probabilities.")
    ] = False,
    cleanup: Annotated[
        bool, typer.Option(help="Also try other clean-up rules (join gap, minimum length) per technique.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Write the bundle even when the tuned decoding loses on the protocol.")
    ] = False,
) -> None:
    """Choose each technique's decoding (token threshold, Viterbi switch cost, sentence-head
    weight) on labelled PTC articles the network never trained on, score it by grouped
    cross-validation over their stories (chosen on the other folds, mean ± sd), and write a
    copy of the bundle that uses it, with the report as decoding_tuning.json."""
    import json

    from threadpoolctl import threadpool_limits

    from mindlens.models.analyzer import Analyzer, find_bundle
    from mindlens.training.release import derive_bundle
    from mindlens.validation import protocol, tune_decoding

    settings = settings_or_exit()
    if not bundle.is_dir():
        fail(f"no such folder: {bundle}", code=2)
    manifest = processed_manifest()
    analyzer = Analyzer.load(find_bundle(bundle).parent)
    if analyzer.span_model is None or not analyzer.span_model.config.has("token"):
        fail(f"{bundle} has no span model with a token head: nothing to decode", code=2)
    tagger = analyzer.span_model
    with threadpool_limits(limits=1):
        sentences = tune_decoding.labelled_sentences(tagger, manifest, split)
        if sentences.frame.empty:
            fail(f"no labelled PTC sentences in split {split!r} of the processed dataset", code=2)
        result = tune_decoding.tune(
            tagger,
            sentences,
            protocol.ptc_groups(manifest, settings),
            k=settings.protocol.k,
            seed=settings.protocol.seed,
            grid=tune_decoding.grid(fusion, cleanup),
            min_confidence=analyzer.min_confidence,
            shared=shared,
        )

    typer.echo(tune_decoding.summary_table(result))
    if not result.beats_own() and not force:
        fail(
            "the tuned decoding does not beat the model's own on held-out folds (see the FLC gain "
            "above); nothing written. More labelled articles help; --force writes it anyway.",
            code=1,
        )

    def apply(changed: Analyzer) -> None:
        changed.require_span_model().config.decoding = result.decoding.to_dict()

    saved = derive_bundle(bundle, out, apply)
    report = saved / tune_decoding.REPORT
    report.write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    typer.echo(f"wrote {saved} (report {report})")


@registry_app.command("requantize")
def registry_requantize(
    bundle: Annotated[Path, typer.Option(help="Analyzer bundle or release folder, e.g. models/v2.")],
    out: Annotated[Path, typer.Option(help="Folder for the bundle with the batch-invariant int8 graph.")],
    sentences: Annotated[int, typer.Option(help="PTC training sentences to calibrate on.")] = 300,
) -> None:
    """Fix the activation ranges of a bundle's int8 span model (the same weights, ranges
    calibrated on training sentences instead of taken per batch), so a text's scores never
    depend on its batch, and write a copy of the bundle that uses it."""
    from mindlens.models.quantization import calibration_sentences
    from mindlens.training.release import requantize_bundle

    if not bundle.is_dir():
        fail(f"no such folder: {bundle}", code=2)
    if sentences < 1:
        fail("--sentences must be positive", code=2)
    try:
        texts = calibration_sentences(processed_manifest(), sentences)
        saved = requantize_bundle(bundle, out, texts)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err), code=2)
    typer.echo(f"wrote {saved}: int8 activation ranges fixed on {len(texts)} PTC training sentences")


@registry_app.command("release")
def registry_release(
    bundle: Annotated[Path, typer.Option(help="Analyzer bundle to ship (e.g. from tune-decoding).")],
    out: Annotated[Path, typer.Option(help="Release folder to write (e.g. models/v2).")],
    version: Annotated[str, typer.Option(help="Semantic version of the release.")],
    changelog: Annotated[str, typer.Option(help="One-line changelog.")],
    base: Annotated[
        Path | None, typer.Option(help="The release whose network it reuses (e.g. models/v1).")
    ] = None,
    step: Annotated[
        list[str] | None, typer.Option(help="A command that derived the bundle (repeatable, in order).")
    ] = None,
) -> None:
    """Release an analyzer bundle derived from an earlier release: evaluate it, keep the
    base's training command and the derivation steps, checksum every file."""
    import json

    from mindlens.registry import parse_semver
    from mindlens.training.release import ReleaseError, release_bundle
    from mindlens.validation.tune_decoding import REPORT

    if not bundle.is_dir():
        fail(f"no such folder: {bundle}", code=2)
    if parse_semver(version) is None:
        fail(f"--version {version!r} is not a semantic version such as 1.2.0", code=2)
    if base is not None and not (base / "release.json").is_file():
        fail(f"--base {base} is not a release folder (no release.json)", code=2)
    tuning = bundle / REPORT
    try:
        release = release_bundle(
            settings_or_exit(),
            bundle,
            out,
            version=version,
            changelog=changelog,
            base=base,
            steps=step,
            protocol={"decoding": json.loads(tuning.read_text())["summary"]} if tuning.is_file() else None,
        )
    except (ReleaseError, ValueError, FileNotFoundError) as err:
        fail(str(err), code=2)
    shown = ("val_si_f1", "val_flc_f1", "val_tc_micro_f1", "curated_test_hard_negative_fp_rate")
    typer.echo(
        f"wrote {out} ({release['version']}): "
        + ", ".join(f"{k}={release['metrics'][k]:.3f}" for k in shown if k in release["metrics"])
    )


@registry_app.command("model-card")
def registry_model_card(
    release: Annotated[
        Path | None, typer.Option(help="Release folder (default: the newest shipped release).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the card.")] = Path("MODEL_CARD.md"),
) -> None:
    """Write the model card of a release from its release.json."""
    from mindlens.config import PROJECT_ROOT
    from mindlens.model_card import render
    from mindlens.training.release import SHIPPED, ReleaseError, read_release

    try:
        manifest = read_release(release or SHIPPED)
    except ReleaseError as err:
        fail(str(err))
    command = "mindlens registry model-card" + (f" --release {release}" if release else "") + f" --out {out}"
    folder = (release or SHIPPED).resolve()
    shown = folder.relative_to(PROJECT_ROOT) if folder.is_relative_to(PROJECT_ROOT) else folder
    out.write_text(render(manifest, command, f"{shown.as_posix()}/release.json"), encoding="utf-8")
    typer.echo(f"wrote {out}")


def register(run_id: Annotated[str, typer.Argument(help="MLflow run id of a training run.")]) -> None:
    """Register a run's analyzer; it becomes champion if it beats the current one."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from mindlens.pipeline import register as register_stage
    from mindlens.tracking import configure_mlflow

    settings = settings_or_exit()
    configure_mlflow(settings)
    try:
        model_uri = mlflow.MlflowClient().get_run(run_id).data.tags.get("model_uri")
    except MlflowException:
        fail(f"no MLflow run {run_id!r} in {settings.mlflow.tracking_uri}")
    if not model_uri:
        fail(f"run {run_id} logged no analyzer model")
    print_json(register_stage(run_id, model_uri, settings))
