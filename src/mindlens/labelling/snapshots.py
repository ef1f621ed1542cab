"""Label snapshots on disk: ``<folder>/<content hash>.jsonl``, one per origin, replaced
atomically; the previous snapshot's records can be read back."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_SNAPSHOT = re.compile(r"^[0-9a-f]{16}\.jsonl$")


def write_snapshot(folder: Path, records: Sequence[Mapping[str, Any]]) -> tuple[Path, bool]:
    """Write ``<folder>/<content hash>.jsonl`` atomically and remove older snapshots;
    ``(path, changed)``. An unchanged export leaves the folder as it was."""
    body = "".join(json.dumps(dict(r), ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.jsonl"
    changed = not path.exists()
    if changed:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(tmp, path)
    for old in folder.iterdir():
        if old != path and _SNAPSHOT.match(old.name):
            old.unlink()
    return path, changed


def previous_records(folder: Path) -> list[dict[str, Any]]:
    """The records of the snapshot(s) in ``folder`` as written (none if absent)."""
    records = []
    for path in sorted(Path(folder).glob("*.jsonl")) if Path(folder).is_dir() else []:
        if _SNAPSHOT.match(path.name):
            records += [
                json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
    return records
