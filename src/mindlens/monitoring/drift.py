"""Population stability index (PSI) between a model's reference and recent predictions.

Two features describe what the service sees, both computable from an analysis result or
from a prediction-log line (so the service's gauges and the drift-report DAG agree):

- ``techniques``: the share of each predicted technique among reported fragments, with
  ``none`` counting texts where nothing was reported (a model that goes quiet drifts too);
- ``input_length``: texts per length bucket (characters, roughly logarithmic edges).

PSI = sum((a - e) * ln(a / e)) over categories; below 0.1 is stable, above 0.25 is drift.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mindlens import taxonomy

FEATURES = ("techniques", "input_length")
NONE = "none"
LENGTH_EDGES = (50, 100, 200, 500, 1000, 2000, 5000, 10000)
_EPSILON = 1e-4  # share given to a category never seen on one side (PSI is infinite otherwise)
REFERENCE_FILE = "drift_reference.json"


def length_bucket(chars: int) -> str:
    """The length bucket of a text, e.g. ``200-499`` or ``10000+``."""
    i = bisect.bisect_right(LENGTH_EDGES, chars)
    if i == 0:
        return f"0-{LENGTH_EDGES[0] - 1}"
    if i == len(LENGTH_EDGES):
        return f"{LENGTH_EDGES[-1]}+"
    return f"{LENGTH_EDGES[i - 1]}-{LENGTH_EDGES[i] - 1}"


CATEGORIES: dict[str, tuple[str, ...]] = {
    "techniques": (*taxonomy.TECHNIQUE_IDS, NONE),
    "input_length": tuple(length_bucket(n) for n in (0, *LENGTH_EDGES)),
}


@dataclass(frozen=True)
class Observation:
    """What drift needs of one analysed text: its reported techniques and its length."""

    techniques: tuple[str, ...]
    chars: int

    @classmethod
    def from_result(
        cls, text_chars: int, spans: Iterable[Mapping[str, Any]], min_confidence: float = 0.0
    ) -> Observation:
        return cls(tuple(s["technique"] for s in spans if s["confidence"] >= min_confidence), text_chars)

    @classmethod
    def from_log_entry(cls, entry: Mapping[str, Any]) -> Observation:
        """A prediction-log line (its spans are already those reported)."""
        return cls(tuple(s["technique"] for s in entry.get("spans", [])), int(entry["text_chars"]))


def counts(observations: Iterable[Observation]) -> dict[str, Counter[str]]:
    """Category counts per feature."""
    out: dict[str, Counter[str]] = {f: Counter() for f in FEATURES}
    for obs in observations:
        out["techniques"].update(obs.techniques or (NONE,))
        out["input_length"][length_bucket(obs.chars)] += 1
    return out


def shares(counter: Mapping[str, float], categories: Iterable[str]) -> dict[str, float]:
    total = sum(counter.values())
    return {c: (counter.get(c, 0) / total if total else 0.0) for c in categories}


def psi(expected: Mapping[str, float], actual: Mapping[str, float]) -> float:
    """PSI of two count or share maps over the union of their categories."""
    cats = set(expected) | set(actual)
    e_total, a_total = sum(expected.values()), sum(actual.values())
    if not e_total or not a_total:
        return float("nan")
    value = 0.0
    for c in cats:
        e = max(expected.get(c, 0) / e_total, _EPSILON)
        a = max(actual.get(c, 0) / a_total, _EPSILON)
        value += (a - e) * math.log(a / e)
    return value


@dataclass
class Reference:
    """The distribution a model was validated on (counts per feature and category)."""

    counts: dict[str, dict[str, int]]
    texts: int
    source: str = ""
    min_confidence: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_observations(cls, observations: list[Observation], **kwargs: Any) -> Reference:
        return cls(
            {f: dict(sorted(c.items())) for f, c in counts(observations).items()}, len(observations), **kwargs
        )

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "format": 1,
                    "texts": self.texts,
                    "source": self.source,
                    "min_confidence": self.min_confidence,
                    "length_edges": list(LENGTH_EDGES),
                    "counts": self.counts,
                    "meta": self.meta,
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())
        return path

    @classmethod
    def load(cls, path: Path) -> Reference:
        data = json.loads(Path(path).read_text())
        if list(data.get("length_edges", [])) != list(LENGTH_EDGES):
            raise ValueError(f"{path}: length buckets differ from this code's; rebuild the reference")
        return cls(
            data["counts"],
            data["texts"],
            data.get("source", ""),
            data.get("min_confidence"),
            data.get("meta", {}),
        )

    def psi(self, observations: Iterable[Observation]) -> dict[str, float]:
        recent = counts(observations)
        return {f: psi(self.counts.get(f, {}), recent[f]) for f in FEATURES}


class DriftWindow:
    """The service's rolling window of recent texts, compared with the served model's
    reference at scrape time (cheap: a few dozen categories)."""

    def __init__(self, size: int, min_texts: int) -> None:
        self.min_texts = min_texts
        self._recent: deque[Observation] = deque(maxlen=size)
        self._reference: Reference | None = None
        self._lock = threading.Lock()

    def set_reference(self, reference: Reference | None) -> None:
        """A new model has a new reference; the window restarts so PSI measures that model."""
        with self._lock:
            self._reference = reference
            self._recent.clear()

    @property
    def reference(self) -> Reference | None:
        return self._reference

    def observe(self, observation: Observation) -> None:
        with self._lock:
            self._recent.append(observation)

    def __len__(self) -> int:
        return len(self._recent)

    def psi(self) -> dict[str, float] | None:
        """PSI per feature, or None without a reference or with too few texts yet."""
        with self._lock:
            if self._reference is None or len(self._recent) < self.min_texts:
                return None
            recent = list(self._recent)
            reference = self._reference
        return reference.psi(recent)
