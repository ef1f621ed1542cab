"""``mindlens data fetch``: put the public datasets in the data directory, verified.

Every file a loader reads is pinned in ``sources/remote_files.json`` (URL on the
dataset's canonical GitHub repository at a fixed commit, path relative to the data
directory, sha256), so a fetched copy is byte-identical to the one the project was
built and tested on. A file already present with the right checksum is never
downloaded, so a complete local copy checks out offline. Downloads go to a temporary
file next to the target and are moved into place only once the checksum matches:
an interrupted or corrupted download never leaves a partial file behind.

Regenerate the manifest from a verified local copy with
``python -m mindlens.data.fetch --write-manifest <data_dir>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mindlens.data.sources import SOURCES
from mindlens.data.sources.remote import MANIFEST_NAME, RemoteFile, load_manifest, remote_files

GITHUB_RAW = "https://raw.githubusercontent.com"
ENV_BASE_URL = "MINDLENS_FETCH_BASE_URL"
OK_LOCAL, DOWNLOADED, REPLACED = "ok (local)", "downloaded", "replaced"
_CHUNK = 1 << 16

__all__ = [
    "FetchError",
    "ChecksumError",
    "FileResult",
    "FetchReport",
    "fetch",
    "sha256_file",
    "build_manifest",
    "ORIGINS",
]


class FetchError(RuntimeError):
    """A dataset file could not be downloaded."""


class ChecksumError(FetchError):
    """A file's bytes differ from the pinned checksum."""

    def __init__(self, path: str, expected: str, actual: str, hint: str = "") -> None:
        self.path, self.expected, self.actual = path, expected, actual
        super().__init__(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}"
            + (f"; {hint}" if hint else "")
        )


@dataclass(frozen=True)
class Origin:
    """Where a source's files come from; local paths are ``<folder>/<original path>``."""

    folder: str
    repo: str  # owner/name on GitHub
    commit: str
    patterns: tuple[str, ...]  # original paths (globs) of the files the loader reads
    note: str = ""


# From each dataset folder's SOURCE.txt; only files a loader reads.
ORIGINS: dict[str, Origin] = {
    "ptc": Origin(
        "ptc-semeval2020-task11",
        "davideturco/SemEval2020-Task11",
        "4e9cb45c33aeb18d063bae8178ac8d0c644f3a59",
        (
            "datasets/train-articles/article*.txt",
            "datasets/train-task-flc-tc.labels",
            "datasets/train-task-si.labels",
            "datasets/test-articles/article*.txt",
        ),
    ),
    "semeval2021": Origin(
        "semeval2021-task6",
        "di-dimitrov/SEMEVAL-2021-task6-corpus",
        "796b32fa76b7a5814a48d1870d163058e81e4ce1",
        (
            "data/training_set_task1.txt",
            "data/training_set_task2.txt",
            "data/dev_set_task1.txt",
            "data/dev_set_task2.txt",
        ),
    ),
    "clickbait": Origin(
        "stop-clickbait",
        "bhargaviparanjape/clickbait",
        "203d979a81545ae6160ff45ffdac83e74469c97a",
        ("dataset/clickbait_data.gz", "dataset/non_clickbait_data.gz"),
        note="checksums are those of the shared copy, which holds out 10% of "
        "each class; the upstream files (16,000 headlines each) differ",
    ),
    "logic": Origin(
        "logic-fallacy-jin2022",
        "causalNLP/logical-fallacy",
        "2a3d09708122c0994279df034d867b80950700ea",
        ("data/edu_train.csv", "data/edu_dev.csv", "data/climate_train.csv", "data/climate_dev.csv"),
    ),
}


@dataclass(frozen=True)
class FileResult:
    source: str
    path: str
    status: str  # OK_LOCAL, DOWNLOADED or REPLACED
    url: str


@dataclass
class FetchReport:
    data_dir: Path
    files: list[FileResult] = field(default_factory=list)
    nothing_to_fetch: list[str] = field(default_factory=list)  # sources kept in the repo/state

    def counts(self) -> Counter[str]:
        return Counter(f.status for f in self.files)

    @property
    def all_local(self) -> bool:
        return all(f.status == OK_LOCAL for f in self.files)

    def render(self) -> str:
        lines = [f"data directory: {self.data_dir}"]
        for source in dict.fromkeys(f.source for f in self.files):
            counts = Counter(f.status for f in self.files if f.source == source)
            lines.append(f"  {source}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        lines += [f"  {name}: nothing to fetch" for name in self.nothing_to_fetch]
        return "\n".join(lines)

    __str__ = render


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_url(url: str, base_url: str | None) -> str:
    """``url`` with the GitHub raw prefix replaced by ``base_url`` (a mirror), if given."""
    if base_url and url.startswith(GITHUB_RAW):
        return base_url.rstrip("/") + url[len(GITHUB_RAW) :]
    return url


def _download(client: Any, url: str, dest: Path, remote: RemoteFile, progress: bool) -> None:
    """Stream ``url`` into a temp file beside ``dest``, verify, then move it into place."""
    import httpx
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise FetchError(
                    f"could not download {remote.path} from {url}: HTTP "
                    f"{response.status_code}; set MINDLENS_DATA_DIR to an existing "
                    f"copy of the datasets or check {ENV_BASE_URL}"
                )
            total = int(response.headers.get("content-length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=remote.path,
                file=sys.stderr,
                disable=not progress,
                leave=False,
            ) as bar:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        actual = digest.hexdigest()
        if actual != remote.sha256:
            raise ChecksumError(
                remote.path, remote.sha256, actual, f"downloaded from {url}; nothing was written"
            )
        os.replace(tmp, dest)
    except httpx.HTTPError as err:
        raise FetchError(
            f"could not download {remote.path} from {url}: {err!r}; without network "
            f"access, set MINDLENS_DATA_DIR to an existing copy of the datasets"
        ) from err
    finally:
        tmp.unlink(missing_ok=True)


def _select(sources: list[str] | None) -> tuple[list[str], list[str]]:
    """(sources with pinned files, known sources with nothing to fetch)."""
    pinned = load_manifest()["sources"]
    names = list(pinned) if sources is None else list(dict.fromkeys(sources))
    unknown = [n for n in names if n not in pinned and n not in SOURCES]
    if unknown:
        raise ValueError(f"unknown data source(s) {unknown}; known: {', '.join(SOURCES)}")
    return [n for n in names if n in pinned], [n for n in names if n not in pinned]


def fetch(
    data_dir: Path,
    sources: list[str] | None = None,
    *,
    base_url_override: str | None = None,
    force: bool = False,
    progress: bool = True,
    only: set[str] | None = None,
) -> FetchReport:
    """Make ``data_dir`` hold every pinned file of ``sources`` (all by default).

    ``only`` restricts to these relative paths (tests, partial mirrors). A local file
    with a wrong checksum is an error unless ``force``, which replaces it.
    """
    data_dir = Path(data_dir)
    base_url = base_url_override or os.environ.get(ENV_BASE_URL) or None
    pinned, nothing = _select(sources)
    report = FetchReport(data_dir=data_dir, nothing_to_fetch=nothing)
    client = None
    try:
        for name in pinned:
            for remote in remote_files(name):
                if only is not None and remote.path not in only:
                    continue
                dest = data_dir / remote.path
                url = resolve_url(remote.url, base_url)
                status = DOWNLOADED
                if dest.is_file():
                    actual = sha256_file(dest)
                    if actual == remote.sha256:
                        report.files.append(FileResult(name, remote.path, OK_LOCAL, url))
                        continue
                    if not force:
                        raise ChecksumError(
                            str(dest),
                            remote.sha256,
                            actual,
                            "the local copy differs from the pinned file; rerun with --force to replace it",
                        )
                    status = REPLACED
                if client is None:
                    import httpx

                    client = httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60.0, connect=10.0))
                _download(client, url, dest, remote, progress)
                report.files.append(FileResult(name, remote.path, status, url))
    finally:
        if client is not None:
            client.close()
    return report


# --- manifest generation (maintainers) -------------------------------------------------
def build_manifest(data_dir: Path) -> dict[str, Any]:
    """Manifest of a verified local copy laid out as ``<folder>/<original path>``."""
    data_dir = Path(data_dir)
    out: dict[str, Any] = {"generated_by": "python -m mindlens.data.fetch --write-manifest", "sources": {}}
    for name, origin in ORIGINS.items():
        root = data_dir / origin.folder
        files = []
        for pattern in origin.patterns:
            matches = sorted(root.glob(pattern))
            if not matches:
                raise FileNotFoundError(f"{name}: nothing matches {root / pattern}")
            for path in matches:
                original = path.relative_to(root).as_posix()
                files.append(
                    {
                        "path": f"{origin.folder}/{original}",
                        "url": f"{GITHUB_RAW}/{origin.repo}/{origin.commit}/{original}",
                        "sha256": sha256_file(path),
                    }
                )
        entry: dict[str, Any] = {
            "repo": origin.repo,
            "commit": origin.commit,
            "folder": origin.folder,
            "files": files,
        }
        if origin.note:
            entry["note"] = origin.note
        out["sources"][name] = entry
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write-manifest",
        metavar="DATA_DIR",
        type=Path,
        required=True,
        help="regenerate the pinned manifest from this local copy",
    )
    args = parser.parse_args(argv)
    target = Path(__file__).parent / "sources" / MANIFEST_NAME
    manifest = build_manifest(args.write_manifest)
    target.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    n = sum(len(s["files"]) for s in manifest["sources"].values())
    print(f"wrote {target} ({n} files)")


if __name__ == "__main__":
    main()
