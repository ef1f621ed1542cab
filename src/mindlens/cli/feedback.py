"""``mindlens feedback migrate|list|export``: the feedback store from the command line.

The database is ``feedback.database_url`` (``MINDLENS_FEEDBACK__DATABASE_URL``;
default SQLite under the state folder) unless ``--url`` names another. A
database that cannot be reached is one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from mindlens.cli.common import fail

if TYPE_CHECKING:
    from mindlens.feedback.store import FeedbackStore

feedback_app = typer.Typer(
    help="User feedback: migrate the database, list and export it.", no_args_is_help=True
)
T = TypeVar("T")
UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="SQLAlchemy URL (default: feedback.database_url from the config)."),
]


def _run(action: Callable[[], T]) -> T:
    from mindlens.feedback.store import FeedbackUnavailableError

    try:
        return action()
    except FeedbackUnavailableError as err:
        cause = str(err.__cause__ or err).strip().splitlines()[0]
        fail(f"the feedback database cannot be used: {cause}")
    except ValueError as err:
        fail(str(err))


def _open(url: str | None) -> FeedbackStore:
    from mindlens.config import get_settings
    from mindlens.feedback.store import FeedbackStore

    return _run(lambda: FeedbackStore(url or str(get_settings().feedback.database_url)))


@feedback_app.command("migrate")
def migrate(url: UrlOption = None) -> None:
    """Create or upgrade the feedback tables to the latest migration (the API does it on start)."""
    from mindlens.feedback.store import redact

    store = _open(url)
    count = _run(store.count)
    typer.echo(
        f"feedback database {redact(store.url)} is at the latest migration "
        f"({count} feedback item{'' if count == 1 else 's'})"
    )


@feedback_app.command("list")
def list_feedback(
    status: Annotated[str | None, typer.Option(help="new, queued or reviewed.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 20,
    url: UrlOption = None,
) -> None:
    """A table of the latest feedback: id, time, status, judgement, corrections, text start."""
    store = _open(url)
    records = _run(lambda: store.list(status=status))[-limit:][::-1]
    if not records:
        typer.echo("no feedback" + (f" with status {status}" if status else ""))
        return
    typer.echo(f"{'id':>6}  {'created (UTC)':19}  {'status':8}  {'judgement':16}  {'fixes':>5}  text")
    for r in records:
        snippet = " ".join(r.text.split())[:50]
        typer.echo(
            f"{r.id:>6}  {r.created_at:%Y-%m-%d %H:%M:%S}  {r.status:8}  "
            f"{r.judgement or '-':16}  {len(r.corrections):>5}  {snippet}"
        )


@feedback_app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="JSON-lines file (default: stdout).")
    ] = None,
    status: Annotated[str | None, typer.Option(help="new, queued or reviewed.")] = None,
    url: UrlOption = None,
) -> None:
    """Every feedback item as one JSON object per line (oldest first), text included."""
    store = _open(url)
    records = _run(lambda: store.list(status=status))
    lines = (json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
    if out is None:
        sys.stdout.writelines(lines)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
    typer.echo(f"{len(records)} feedback item{'' if len(records) == 1 else 's'} -> {out}", err=True)
