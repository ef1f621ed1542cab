"""Model files as plain JSON, gzip-compressed when the name ends in ``.gz``: what every
model of an analyzer bundle is stored as (nothing is unpickled on the serving path)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Compact JSON; gzip (reproducible: no timestamp) for a ``.gz`` name."""
    payload = json.dumps(data, separators=(",", ":")).encode()
    Path(path).write_bytes(gzip.compress(payload, mtime=0) if str(path).endswith(".gz") else payload)


def read_json(path: Path) -> dict[str, Any]:
    raw = Path(path).read_bytes()
    data = json.loads(gzip.decompress(raw) if str(path).endswith(".gz") else raw)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def rounded(rows: list[list[float]], digits: int) -> list[list[float]]:
    """A weight matrix rounded to ``digits`` (release bundles trade invisible precision for size)."""
    return [[round(v, digits) for v in row] for row in rows]
