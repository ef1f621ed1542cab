"""The pinned remote files of the public sources (``remote_files.json``, shipped here).

Both the source modules (their ``REMOTE``) and ``mindlens.data.fetch`` read it, so it
sits below both: a source never imports the downloader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

MANIFEST_NAME = "remote_files.json"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a public dataset, pinned to a commit and a checksum."""

    url: str
    path: str  # relative to the data directory
    sha256: str


@lru_cache(maxsize=1)
def load_manifest() -> dict[str, Any]:
    """The pinned manifest shipped with the package (read once, on first use)."""
    text = resources.files("mindlens.data.sources").joinpath(MANIFEST_NAME).read_text("utf-8")
    return json.loads(text)


def remote_files(source_name: str) -> tuple[RemoteFile, ...]:
    """Pinned files of one public source (a module's ``REMOTE``)."""
    sources = load_manifest()["sources"]
    if source_name not in sources:
        raise ValueError(f"no pinned files for source {source_name!r}; known: {', '.join(sources)}")
    return tuple(RemoteFile(f["url"], f["path"], f["sha256"]) for f in sources[source_name]["files"])
