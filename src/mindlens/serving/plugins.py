"""UI plugins: user interfaces mounted into the app, found through an entry point group.

A distribution offers one with ``[project.entry-points."mindlens.ui"] name = "module:mount"``;
``mount(app, context)`` adds its routes to ``app`` (a Gradio app mounted at a path, say)
and returns that path, calling back into MindLens only through ``context``: the same
analysis and feedback operations the API routes use. Serving imports no plugin by name;
without any installed the API serves alone, and a plugin that fails to load or mount is
logged and left out rather than taking the API down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from fastapi import FastAPI

from mindlens.config import Settings
from mindlens.feedback.service import FeedbackService
from mindlens.serving.analysis import AnalysisService
from mindlens.serving.rate_limit import RateLimiter

log = logging.getLogger(__name__)

UI_GROUP = "mindlens.ui"


@dataclass(frozen=True)
class ServingContext:
    """What a UI plugin gets: the settings and the operations behind the API's routes."""

    settings: Settings
    analysis: AnalysisService  # /analyze's code path (``analyze``, ``model_label``)
    feedback: FeedbackService | None  # /feedback's code path; None: no feedback in the UI
    # POST /feedback's per-address limit: a UI's feedback counts against the same budget
    feedback_limiter: RateLimiter | None = None


Mount = Callable[[FastAPI, ServingContext], "str | None"]


def ui_entry_points() -> list[EntryPoint]:
    """The installed UI plugins, by name."""
    return sorted(entry_points(group=UI_GROUP), key=lambda ep: ep.name)


def mount_ui_plugins(app: FastAPI, context: ServingContext) -> dict[str, str]:
    """Mount every installed UI plugin; returns {name: path} of those mounted."""
    mounted: dict[str, str] = {}
    for entry_point in ui_entry_points():
        try:
            mount: Mount = entry_point.load()
            path = mount(app, context)
        except Exception:
            log.exception("UI plugin %r (%s) not mounted", entry_point.name, entry_point.value)
            continue
        mounted[entry_point.name] = path or ""
        log.debug("UI plugin %r mounted at %s", entry_point.name, path)
    return mounted
