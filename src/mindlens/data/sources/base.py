"""What a data source is: where it lives, how to fetch it, how to read it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from mindlens.data.sources.remote import RemoteFile, remote_files
from mindlens.schema import SourceData


class DataNotFoundError(FileNotFoundError):
    """A dataset is missing from the configured data directory."""


class Source(Protocol):
    """Each source module exposes these names (see ``mindlens.data.sources``)."""

    NAME: str
    FOLDER: str
    REMOTE: tuple[RemoteFile, ...]

    def load(self, data_dir: Path) -> SourceData: ...


def require_dir(path: Path, source: str) -> Path:
    """``path`` if it exists, else a clear error naming the setting to fix."""
    if not path.is_dir():
        raise DataNotFoundError(
            f"{source} data not found at {path}: set MINDLENS_DATA_DIR to the folder holding it "
            f"(e.g. ../shared/datasets) or run `mindlens data fetch`"
        )
    return path


def lazy_remote(source_name: str, module_name: str) -> Callable[[str], tuple[RemoteFile, ...]]:
    """A module ``__getattr__`` serving ``REMOTE`` from the pinned manifest, read only when
    asked for (loading data never needs it)."""

    def __getattr__(name: str) -> tuple[RemoteFile, ...]:
        if name == "REMOTE":
            return remote_files(source_name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
