"""What every ``mindlens`` sub-command shares: clean errors, settings, JSON output, loading."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from mindlens.config import Settings, get_settings

if TYPE_CHECKING:
    from mindlens.data.dataset import Manifest
    from mindlens.models.analyzer import Analyzer


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit (never a stack trace)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    """The validated settings, or a readable error naming what is wrong."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as err:
        fail(f"invalid configuration:\n{err}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def processed_manifest() -> Manifest:
    """The processed dataset's manifest, or an error saying to prepare it."""
    from mindlens.data.dataset import Manifest

    try:
        return Manifest.read(settings_or_exit().processed_dir)
    except FileNotFoundError as err:
        fail(str(err))


def load_model(settings: Settings, model_uri: str | None) -> tuple[Analyzer, dict[str, Any]]:
    """The analyzer behind a model URI (the champion when None) and its reference."""
    from mlflow.exceptions import MlflowException

    from mindlens.registry import NoChampionError, load_analyzer

    try:
        return load_analyzer(settings, model_uri)
    except NoChampionError as err:
        fail(f"{err}; run `mindlens pipeline` (or `mindlens train --register`) first")
    except (MlflowException, OSError) as err:
        fail(f"cannot load model {model_uri!r}: {str(err).splitlines()[0]}")
