"""Print the requirements of pyproject.toml's extras, one a line, for a dependency layer that
is built before the source is copied (so a code change never reinstalls the dependencies).

    python3 docker/deps.py pyproject.toml serve > deps.txt
    pip install -c constraints.txt -r deps.txt

Self-references such as ``mindlens[serve]`` are expanded; the base dependencies are included.
"""

from __future__ import annotations

import re
import sys
import tomllib


def requirements(pyproject: str, extras: list[str]) -> list[str]:
    """The base dependencies plus those of ``extras`` (and of the extras they name)."""
    with open(pyproject, "rb") as handle:
        project = tomllib.load(handle)["project"]
    name, optional = project["name"], project.get("optional-dependencies", {})
    own = re.compile(rf"^{re.escape(name)}\[(?P<extras>[^\]]+)\]$")
    seen: set[str] = set()
    out: list[str] = list(project.get("dependencies", []))
    todo = list(extras)
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        if extra not in optional:
            sys.exit(f"no extra {extra!r} in {pyproject}")
        seen.add(extra)
        for req in optional[extra]:
            match = own.match(req.replace(" ", ""))
            if match:
                todo.extend(e.strip() for e in match["extras"].split(","))
            elif req not in out:
                out.append(req)
    return out


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1], sys.argv[2:])))
