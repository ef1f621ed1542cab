"""The README's Architecture diagrams (Mermaid) against the code: every DAG id they name is a
DAG in ``dags/`` (and every DAG there is drawn), every notebook exists, every endpoint is a
route of the FastAPI app (or under a mounted UI); and the blocks hold together (edges and
messages use declared nodes and participants), so a rename in the code or a typo in the
diagram fails here instead of on GitHub."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```mermaid\n(.*?)```", README, re.S)
DAG_IDS = {
    match
    for path in (ROOT / "dags").glob("*.py")
    for match in re.findall(r'dag_id="(\w+)"', path.read_text(encoding="utf-8"))
}
# "POST /analyze", "/metrics", "GET /": a path that starts a token (not a file path's inner "/")
ENDPOINT = re.compile(r"(?:\b(GET|POST|PUT|PATCH|DELETE|HEAD) )?(?<![\w./-])(/(?:[\w{}-]+/?)*)")


def _all(pattern: str) -> set[str]:
    return {match for block in BLOCKS for match in re.findall(pattern, block)}


def test_the_architecture_section_sits_after_the_quick_start() -> None:
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings.index("Architecture") == headings.index("Quick start") + 1
    kinds = [block.split(None, 1)[0] for block in BLOCKS]
    assert kinds.count("flowchart") >= 1 and kinds.count("sequenceDiagram") >= 2


def test_every_dag_named_exists_and_every_dag_is_drawn() -> None:
    named = _all(r"\b(mindlens_[a-z_]+)\b")
    assert named - DAG_IDS == set(), "the diagrams name DAGs that dags/ does not define"
    flowchart = next(block for block in BLOCKS if block.startswith("flowchart"))
    assert {dag for dag in DAG_IDS if dag not in flowchart} == set(), "a DAG of dags/ is missing"


def test_every_notebook_named_exists() -> None:
    named = _all(r"([\w-]+\.ipynb)")
    assert named and {nb for nb in named if not (ROOT / "notebooks" / nb).is_file()} == set()


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, set[str]], list[str]]:
    """(path -> methods of the API routes, mount paths) of the app ``mindlens serve`` builds;
    the demo's path from the demo plugin itself (building its Gradio app here costs seconds)."""
    from mindlens.config import Settings
    from mindlens.serving.app import create_app
    from mindlens_demo.app import DEMO_PATH

    app = create_app(Settings(state_dir=tmp_path_factory.mktemp("state")), with_ui=False)
    paths: dict[str, set[str]] = {}
    mounts = [DEMO_PATH]
    for route in app.routes:
        if isinstance(route, Mount):
            mounts.append(route.path)
        elif isinstance(route, APIRoute) or hasattr(route, "methods"):
            paths.setdefault(route.path, set()).update(getattr(route, "methods", None) or set())
    return paths, mounts


def test_every_endpoint_named_is_a_route(routes: tuple[dict[str, set[str]], list[str]]) -> None:
    paths, mounts = routes
    named = {(method, path) for block in BLOCKS for method, path in ENDPOINT.findall(block)}
    assert ("POST", "/analyze") in named and ("", "/demo/") in named
    missing = []
    for method, path in sorted(named):
        if path in paths and (not method or method in paths[path]):
            continue
        if any(path.rstrip("/") == mount or path.startswith(mount + "/") for mount in mounts):
            continue
        missing.append(f"{method} {path}".strip())
    assert missing == [], f"the diagrams name endpoints the app does not serve: {missing}"


def _identifiers(line: str) -> list[str]:
    bare = re.sub(r'"[^"]*"|\|[^|]*\|', " ", line)  # labels are free text
    return re.findall(r"\b[A-Za-z_]\w*\b", bare)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_block_uses_only_what_it_declares(index: int) -> None:
    block = BLOCKS[index]
    lines = [line.strip() for line in block.splitlines()[1:] if line.strip()]
    if block.startswith("flowchart"):
        declared = {m for line in lines for m in re.findall(r"\b(\w+)\s*[\[({]", line)}
        declared |= {m for line in lines for m in re.findall(r"^subgraph (\w+)", line)}
        keywords = {"subgraph", "end", "direction", "LR", "TB"}
        unknown = {i for line in lines for i in _identifiers(line)} - declared - keywords
        assert unknown == set(), f"flowchart edges use undeclared nodes: {unknown}"
    else:
        declared = {m for line in lines for m in re.findall(r"^(?:participant|actor) (\w+)", line)}
        messages = [re.match(r"^(\w+)\s*-{1,2}>>\s*(\w+)\s*:", line) for line in lines]
        used = {name for match in messages if match for name in match.groups()}
        assert used and used <= declared, f"messages between undeclared participants: {used - declared}"
        # a ';' ends a Mermaid statement and '#' starts an entity: both would cut a message short
        assert not [line for line in lines if ";" in line or "#" in line]
