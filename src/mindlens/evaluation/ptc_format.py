"""Read and write the official PTC / SemEval-2020 Task 11 label files.

Writing the official layout lets MindLens predictions be checked with the
organisers' scorers and submitted to the PTC leaderboard; reading it lets the
same gold files drive :mod:`mindlens.evaluation.spans`. Layouts (TAB-separated):

- SI: ``article_id  start  end``
- TC / FLC: ``article_id  technique  start  end`` (``?`` as technique in the
  TC template). Offsets are half-open character offsets.

In memory, techniques are MindLens technique ids (``taxonomy``); the official
names appear only in files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeGuard

from mindlens.evaluation.spans import flc_scores, si_scores, tc_scores
from mindlens.taxonomy import SOURCE_LABELS, UnknownLabelError, map_label

PathLike = str | Path
Task = Literal["si", "tc", "flc"]
_PTC_NAME_BY_ID: dict[str, str] = {tid: name for name, tid in SOURCE_LABELS["ptc"].items()}
_TEMPLATE_MARK = "?"


def ptc_name(technique: str) -> str:
    """Official PTC name for a MindLens technique id (an official name passes through)."""
    if technique in SOURCE_LABELS["ptc"]:
        return technique
    try:
        return _PTC_NAME_BY_ID[technique]
    except KeyError:
        raise ValueError(
            f"technique {technique!r} has no PTC name; PTC has: {', '.join(sorted(_PTC_NAME_BY_ID))}"
        ) from None


# ---------------------------------------------------------------- writing


def _write_lines(path: PathLike, rows: Iterable[tuple[Any, ...]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write("\t".join(str(x) for x in row) + "\n")
    return path


def write_si(path: PathLike, spans: Iterable[tuple[str, int, int]]) -> Path:
    """Write ``id<TAB>start<TAB>end`` lines."""
    return _write_lines(path, ((a, int(s), int(e)) for a, s, e in spans))


def write_flc(path: PathLike, spans: Iterable[tuple[str, str, int, int]]) -> Path:
    """Write ``id<TAB>technique<TAB>start<TAB>end`` with official technique names."""
    return _write_lines(path, ((a, ptc_name(t), int(s), int(e)) for a, t, s, e in spans))


def write_tc(path: PathLike, rows: Iterable[tuple[str, str | None, int, int]]) -> Path:
    """Write TC rows ``(id, technique, start, end)``, the FLC columns, in the given order.

    Order is kept because the TC scorer pairs lines with the template's. A
    technique of None (or ``?``) is written as ``?``, so this also writes templates.
    Note the readers return ``(id, start, end, technique)``, the ``tc_scores`` layout.
    """
    return _write_lines(
        path,
        (
            (a, _TEMPLATE_MARK if t in (None, _TEMPLATE_MARK) else ptc_name(t), int(s), int(e))
            for a, t, s, e in rows
        ),
    )


# ---------------------------------------------------------------- reading


def _rows(path: PathLike, n_fields: int) -> Iterator[tuple[str, list[str]]]:
    """Yield (``file:line`` location, stripped fields); blank lines are skipped."""
    path = Path(path)
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            where = f"{path}:{number}"
            fields = [x.strip() for x in line.split("\t")]
            if len(fields) != n_fields:
                raise ValueError(
                    f"{where}: expected {n_fields} TAB-separated fields, found {len(fields)}: {line!r}"
                )
            yield where, fields


def _offsets(where: str, start: str, end: str) -> tuple[int, int]:
    try:
        s, e = int(start), int(end)
    except ValueError:
        raise ValueError(f"{where}: offsets must be integers, got {start!r}, {end!r}") from None
    if s < 0 or s >= e:
        raise ValueError(f"{where}: need 0 <= start < end, got {s}, {e}")
    return s, e


def _technique(where: str, name: str) -> str:
    try:
        return map_label("ptc", name)
    except UnknownLabelError as exc:
        raise ValueError(f"{where}: {exc}") from None


def read_si(path: PathLike) -> list[tuple[str, int, int]]:
    """Read an SI file into ``(id, start, end)`` tuples."""
    return [(f[0], *_offsets(w, f[1], f[2])) for w, f in _rows(path, 3)]


def read_flc(path: PathLike) -> list[tuple[str, str, int, int]]:
    """Read an FLC/TC file into ``(id, technique_id, start, end)`` tuples."""
    return [(f[0], _technique(w, f[1]), *_offsets(w, f[2], f[3])) for w, f in _rows(path, 4)]


def read_tc_template(path: PathLike) -> list[tuple[str, int, int, str | None]]:
    """Read a TC template into ``(id, start, end, technique_id or None)``; ``?`` is None."""
    return [
        (f[0], *_offsets(w, f[2], f[3]), None if f[1] == _TEMPLATE_MARK else _technique(w, f[1]))
        for w, f in _rows(path, 4)
    ]


def read_tc(path: PathLike) -> list[tuple[str, int, int, str]]:
    """Read TC predictions or gold into ``(id, start, end, technique_id)``; ``?`` is an error."""
    rows = []
    for w, f in _rows(path, 4):
        if f[1] == _TEMPLATE_MARK:
            raise ValueError(f"{w}: unclassified span '?' in a TC predictions/gold file")
        rows.append((f[0], *_offsets(w, f[2], f[3]), _technique(w, f[1])))
    return rows


def is_task(value: object) -> TypeGuard[Task]:
    """Whether ``value`` names a task :func:`score_file` knows."""
    return value in ("si", "tc", "flc")


def score_file(task: Task, gold_path: PathLike, pred_path: PathLike) -> dict[str, Any]:
    """Score a predictions file against a gold file with the official metric of ``task``."""
    if task == "si":
        return si_scores(read_si(gold_path), read_si(pred_path))
    if task == "flc":
        return flc_scores(read_flc(gold_path), read_flc(pred_path))
    if task == "tc":
        return tc_scores(read_tc(gold_path), read_tc(pred_path))
    raise ValueError(f"unknown task {task!r}; expected 'si', 'tc' or 'flc'")
