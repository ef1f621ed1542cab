"""Every data source MindLens reads, each a module with the same interface
(``NAME``, ``FOLDER``, ``REMOTE``, ``load(data_dir) -> SourceData``)."""

from __future__ import annotations

from types import ModuleType

from mindlens.data.sources import (
    clickbait,
    curated,
    feedback,
    label_studio,
    logic,
    ptc,
    semeval2021,
)

SOURCES: dict[str, ModuleType] = {
    module.NAME: module for module in (ptc, semeval2021, clickbait, logic, curated, label_studio, feedback)
}


def get_source(name: str) -> ModuleType:
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(f"unknown data source {name!r}; known: {', '.join(SOURCES)}") from None
