"""``mindlens labels ...``: write the labelling config, push to and pull from Label Studio.

Connection settings come from the ``label_studio`` section of the config: ``url`` (default
http://127.0.0.1:8081, ``MINDLENS_LABEL_STUDIO_URL``), ``project`` (default "MindLens",
``MINDLENS_LABEL_STUDIO_PROJECT``), ``feedback_project`` where user feedback is reviewed
(default "MindLens feedback", ``MINDLENS_LABEL_STUDIO_FEEDBACK_PROJECT``) and the token,
from the environment only (``MINDLENS_LABEL_STUDIO_TOKEN``). Every failure to reach Label
Studio is one line on stderr and exit code 1, so scripts can tell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from mindlens.cli.common import fail, print_json

labels_app = typer.Typer(
    help="Label Studio: labelling config, push examples, pull annotations, review feedback.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)
T = TypeVar("T")


def _guarded(action: Callable[[], T]) -> T:
    """Run an API action, turning connection and HTTP errors into one line and exit 1."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    from mindlens.labelling.connection import LabelStudioError

    try:
        return action()
    except LabelStudioError as err:
        fail(str(err))
    except ApiError as err:
        fail(f"Label Studio answered HTTP {err.status_code}: {str(err.body)[:300]}")
    except httpx.HTTPError as err:
        fail(f"Label Studio request failed: {err}")


@labels_app.command("config")
def config_cmd(
    path: Annotated[
        Path | None, typer.Option(help="Where to write (default label_studio/config.xml).")
    ] = None,
    check: Annotated[bool, typer.Option(help="Only check the file is up to date (exit 1 if not).")] = False,
) -> None:
    """Write the Label Studio labelling XML generated from the taxonomy."""
    from mindlens.labelling.config import CONFIG_PATH, label_config, write_config

    target = path or CONFIG_PATH
    if check:
        if not target.is_file() or target.read_text(encoding="utf-8") != label_config():
            fail(f"{target} is out of date: run `mindlens labels config`")
        typer.echo(f"{target} is up to date")
        return
    typer.echo(f"wrote {write_config(target)}")


def _champion() -> tuple[Any, str] | tuple[None, None]:
    from mindlens.config import get_settings
    from mindlens.registry.registry import NoChampionError, load_analyzer

    try:
        analyzer, ref = load_analyzer(get_settings())
    except NoChampionError as err:
        typer.echo(f"no pre-annotations: {err}", err=True)
        return None, None
    return analyzer, str(ref["label"])


@labels_app.command("push")
def push_cmd(
    texts: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Unlabelled texts, one per line.")
    ] = None,
    curated_dir: Annotated[
        Path | None, typer.Option(help="Curated JSONL folder (default data/curated).")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(help="Project title (default label_studio.project, $MINDLENS_LABEL_STUDIO_PROJECT)."),
    ] = None,
    predictions: Annotated[
        bool, typer.Option(help="Pre-annotate the texts with the champion, if any.")
    ] = True,
) -> None:
    """Create/update the project; import curated examples and unlabelled texts (pre-annotated)."""
    from mindlens.data.sources import curated
    from mindlens.labelling import sync
    from mindlens.labelling.connection import Connection, connect

    conn = Connection.from_settings()
    try:
        records = curated.read_folder(curated_dir or curated.default_folder())
    except ValueError as err:
        fail(str(err))
    lines = texts.read_text(encoding="utf-8").splitlines() if texts else []
    client = _guarded(lambda: connect(conn))
    analyzer, version = _champion() if lines and predictions else (None, None)
    print_json(
        _guarded(
            lambda: sync.push(
                client, project or conn.project, records, lines, analyzer, model_version=version or "champion"
            )
        )
    )


@labels_app.command("pull")
def pull_cmd(
    origin: Annotated[
        str, typer.Option(help="curated (relabelled examples); reviewed feedback: `labels pull-feedback`.")
    ] = "curated",
    project: Annotated[
        str | None,
        typer.Option(help="Project title (default label_studio.project, $MINDLENS_LABEL_STUDIO_PROJECT)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Labels folder (default <state_dir>/labels).")] = None,
) -> None:
    """Export reviewed annotations into <state_dir>/labels/<origin>/<content hash>.jsonl."""
    from mindlens.data.sources.label_studio import ORIGINS, default_labels_dir
    from mindlens.labelling import sync
    from mindlens.labelling.connection import Connection, connect

    if origin not in ORIGINS:
        fail(f"--origin must be one of {', '.join(ORIGINS)}")
    if origin == "feedback":  # its snapshot would replace the feedback-review project's
        fail(
            "the feedback folder is written by `mindlens labels pull-feedback` (the feedback-review project)"
        )
    conn = Connection.from_settings()
    client = _guarded(lambda: connect(conn))
    result = _guarded(lambda: sync.pull(client, project or conn.project, out or default_labels_dir(), origin))
    print_json(result)
    if result["conflicts"]:
        typer.echo(
            f"{len(result['conflicts'])} task(s) where annotators disagree (latest annotation kept)", err=True
        )


@labels_app.command("push-feedback")
def push_feedback_cmd(
    project: Annotated[
        str | None,
        typer.Option(
            help="Feedback-review project title (default label_studio.feedback_project, $MINDLENS_LABEL_STUDIO_FEEDBACK_PROJECT)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many feedback items.")] = None,
) -> None:
    """Queue new user feedback for review: one task per text, pre-annotated with the model's
    prediction at the time and each user's correction; the feedback is marked queued."""
    from mindlens.config import get_settings
    from mindlens.feedback.store import FeedbackUnavailableError
    from mindlens.labelling import feedback

    try:
        result = _guarded(lambda: feedback.push_configured(get_settings(), project=project, limit=limit))
    except FeedbackUnavailableError as err:
        fail(str(err))
    print_json(result)


@labels_app.command("pull-feedback")
def pull_feedback_cmd(
    project: Annotated[
        str | None,
        typer.Option(
            help="Feedback-review project title (default label_studio.feedback_project, $MINDLENS_LABEL_STUDIO_FEEDBACK_PROJECT)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Labels folder (default <state_dir>/labels).")] = None,
) -> None:
    """Export reviewed feedback into <state_dir>/labels/feedback/<content hash>.jsonl (the
    feedback data source) and mark the feedback behind each reviewed task as reviewed."""
    from mindlens.config import get_settings
    from mindlens.feedback.store import FeedbackUnavailableError
    from mindlens.labelling import feedback

    try:
        result = _guarded(lambda: feedback.pull_configured(get_settings(), project=project, labels_dir=out))
    except FeedbackUnavailableError as err:
        fail(str(err))
    result.pop("reviewed_tasks", None)
    print_json(result)
    if result["conflicts"]:
        typer.echo(
            f"{len(result['conflicts'])} task(s) where reviewers disagree (latest annotation kept)", err=True
        )
