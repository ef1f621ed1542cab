"""Label Studio projects: find one by title, create it or bring its labelling config and
instructions up to date, and the text hashes of the tasks it already holds."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from mindlens.config import RESOURCE_ROOT
from mindlens.labelling import config as lc
from mindlens.labelling.connection import get
from mindlens.labelling.tasks import HASH_KEY

GUIDE_PATH = RESOURCE_ROOT / "data" / "curated" / "GUIDE.md"


def instructions(guide: Path = GUIDE_PATH) -> str | None:
    if not guide.is_file():
        return None
    source = guide.read_text(encoding="utf-8")
    try:
        from markdown_it import MarkdownIt

        return MarkdownIt().render(source)
    except ImportError:  # Label Studio shows instructions as HTML
        return f"<pre>{html.escape(source)}</pre>"


def find_project(client: Any, title: str) -> Any | None:
    """The project with exactly this title (the API filter is a substring match)."""
    for project in client.projects.list(title=title):
        if get(project, "title") == title:
            return project
    return None


def ensure_project(client: Any, title: str, label_config: str | None = None) -> tuple[int, bool]:
    """Create the project, or bring its config and instructions up to date; ``(id, created)``.
    ``label_config`` defaults to the curated project's (``labelling.config.label_config``)."""
    fields: dict[str, Any] = {"label_config": label_config or lc.label_config()}
    text = instructions()
    if text:
        fields |= {"expert_instruction": text, "show_instruction": True}
    project = find_project(client, title)
    if project is None:
        created = client.projects.create(title=title, **fields)
        return int(get(created, "id")), True
    client.projects.update(get(project, "id"), **fields)
    return int(get(project, "id")), False


def existing_hashes(client: Any, project_id: int) -> set[str]:
    hashes = set()
    for task in client.tasks.list(project=project_id, fields="task_only"):
        data = get(task, "data") or {}
        if data.get(HASH_KEY):
            hashes.add(data[HASH_KEY])
    return hashes
