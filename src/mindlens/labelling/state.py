"""Which pulled labels were already handed to a training run (the label-sync DAG's memory):
``<labels_dir>/sync_state.json`` (``Paths.label_sync_state`` for the state folder's)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mindlens.paths import LABELS_CURATED, SYNC_STATE

STATE_FILE = SYNC_STATE


def record_keys(labels_dir: Path, origins: Sequence[str] | None = None) -> set[str]:
    """``origin/id@hash`` of every pulled record (of ``origins``, default all): a relabelled
    text counts as a new label."""
    keys = set()
    for path in sorted(Path(labels_dir).glob("*/*.jsonl")):
        if origins is not None and path.parent.name not in origins:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]
                keys.add(f"{path.parent.name}/{obj.get('id')}@{digest}")
    return keys


def load_state(labels_dir: Path) -> dict[str, Any]:
    path = Path(labels_dir) / STATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def save_state(labels_dir: Path, state: Mapping[str, Any]) -> Path:
    """Atomic, so a killed worker never leaves half a state file."""
    path = Path(labels_dir) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(state), handle, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return path


# Curated relabels retrain through mindlens_pipeline; reviewed feedback through
# mindlens_retrain (``labelling.feedback``), remembered under a state key of its own.
PIPELINE_ORIGINS = (LABELS_CURATED,)


def count_new_labels(
    labels_dir: Path, origins: Sequence[str] = PIPELINE_ORIGINS, state_key: str = "trained_keys"
) -> int:
    """Labels not yet handed to a training run (since the last ``mark_trained``)."""
    state = load_state(labels_dir)
    return len(record_keys(labels_dir, origins) - set(state.get(state_key, [])))


def mark_trained(
    labels_dir: Path,
    when: str,
    origins: Sequence[str] = PIPELINE_ORIGINS,
    state_key: str = "trained_keys",
    when_key: str = "last_trigger",
) -> dict[str, Any]:
    """Remember the current labels as handed to training (after the pipeline was triggered)."""
    keys = sorted(record_keys(labels_dir, origins))
    state = load_state(labels_dir) | {state_key: keys, when_key: when}
    save_state(labels_dir, state)
    return {"labels": len(keys), when_key: when}
