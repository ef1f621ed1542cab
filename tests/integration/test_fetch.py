"""``mindlens data fetch`` against a real local HTTP server laid out like
raw.githubusercontent.com, serving a copy of a few real dataset files."""

from __future__ import annotations

import filecmp
import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import data_dir, free_port

from mindlens.data import fetch as fetch_mod
from mindlens.data.fetch import (
    ChecksumError,
    FetchError,
    fetch,
    sha256_file,
)
from mindlens.data.sources.remote import remote_files

CLICKBAIT = [f.path for f in remote_files("clickbait")]
PTC_SUBSET = [
    f.path
    for f in remote_files("ptc")
    if f.path.endswith(("train-task-flc-tc.labels", "article111111111.txt"))
]
SUBSET = set(CLICKBAIT + PTC_SUBSET)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _served_path(url: str) -> str:
    return urlsplit(url).path.lstrip("/")  # <owner>/<repo>/<commit>/<original path>


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, served root) of a mirror holding SUBSET copied from the shared datasets."""
    if not all((data_dir() / p).is_file() for p in SUBSET):
        pytest.skip(f"shared datasets not found under MINDLENS_DATA_DIR={data_dir()}")
    root = tmp_path / "mirror"
    for name in ("clickbait", "ptc"):
        for remote in remote_files(name):
            if remote.path in SUBSET:
                target = root / _served_path(remote.url)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(data_dir() / remote.path, target)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _no_partials(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if p.name.endswith(".part")]


def test_manifest_urls_are_pinned_github_raw_urls() -> None:
    for name, commit in (
        ("ptc", "4e9cb45c33aeb18d063bae8178ac8d0c644f3a59"),
        ("semeval2021", "796b32fa76b7a5814a48d1870d163058e81e4ce1"),
        ("clickbait", "203d979a81545ae6160ff45ffdac83e74469c97a"),
        ("logic", "2a3d09708122c0994279df034d867b80950700ea"),
    ):
        files = remote_files(name)
        assert files and all(f.url.startswith("https://raw.githubusercontent.com/") for f in files)
        assert all(f"/{commit}/" in f.url and len(f.sha256) == 64 for f in files)
    assert len(remote_files("ptc")) == 371 + 2 + 90  # articles, TC and SI labels, test articles
    with pytest.raises(ValueError):
        remote_files("curated")


def test_fetch_downloads_verifies_then_stays_local(mirror, tmp_path: Path) -> None:
    base, _ = mirror
    target = tmp_path / "data"
    report = fetch(target, ["clickbait", "ptc"], base_url_override=base, progress=False, only=SUBSET)
    assert sorted(f.path for f in report.files) == sorted(SUBSET)
    assert {f.status for f in report.files} == {"downloaded"}
    assert all(f.url.startswith(base) for f in report.files)
    for path in SUBSET:
        assert filecmp.cmp(target / path, data_dir() / path, shallow=False)
    pinned = {f.path: f.sha256 for f in remote_files("clickbait") + remote_files("ptc")}
    assert all(sha256_file(target / p) == pinned[p] for p in SUBSET)
    _no_partials(target)

    # Second run: everything is local, so even an unreachable mirror is never contacted.
    again = fetch(
        target,
        ["clickbait", "ptc"],
        base_url_override=f"http://127.0.0.1:{free_port()}",
        progress=False,
        only=SUBSET,
    )
    assert again.all_local and len(again.files) == len(SUBSET)
    assert "2 ok (local)" in again.render()


def test_env_variable_sets_the_mirror(mirror, tmp_path: Path, monkeypatch) -> None:
    base, _ = mirror
    monkeypatch.setenv(fetch_mod.ENV_BASE_URL, base)
    report = fetch(tmp_path / "data", ["clickbait"], progress=False)
    assert [f.status for f in report.files] == ["downloaded", "downloaded"]


def test_corrupted_download_raises_and_leaves_nothing(mirror, tmp_path: Path) -> None:
    base, root = mirror
    remote = remote_files("clickbait")[0]
    served = root / _served_path(remote.url)
    served.write_bytes(served.read_bytes()[:-10] + b"corrupted!")
    target = tmp_path / "data"
    with pytest.raises(ChecksumError) as info:
        fetch(target, ["clickbait"], base_url_override=base, progress=False, only={remote.path})
    message = str(info.value)
    assert remote.path in message and remote.sha256 in message
    assert sha256_file(served) in message
    assert not (target / remote.path).exists()
    _no_partials(target)


def test_local_file_with_wrong_checksum_needs_force(mirror, tmp_path: Path) -> None:
    base, _ = mirror
    remote = remote_files("clickbait")[1]
    local = tmp_path / "data" / remote.path
    local.parent.mkdir(parents=True)
    local.write_bytes(b"stale")
    with pytest.raises(ChecksumError, match="--force"):
        fetch(tmp_path / "data", ["clickbait"], base_url_override=base, progress=False, only={remote.path})
    assert local.read_bytes() == b"stale"
    report = fetch(
        tmp_path / "data",
        ["clickbait"],
        base_url_override=base,
        progress=False,
        only={remote.path},
        force=True,
    )
    assert [f.status for f in report.files] == ["replaced"]
    assert sha256_file(local) == remote.sha256


def test_unreachable_server_raises_fetch_error(tmp_path: Path) -> None:
    remote = remote_files("clickbait")[0]
    base = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(FetchError) as info:
        fetch(tmp_path / "data", ["clickbait"], base_url_override=base, progress=False, only={remote.path})
    message = str(info.value)
    assert remote.path in message and base in message and "MINDLENS_DATA_DIR" in message
    assert not (tmp_path / "data" / remote.path).exists()
    _no_partials(tmp_path / "data")


def test_missing_file_on_the_server_raises_fetch_error(mirror, tmp_path: Path) -> None:
    base, _ = mirror
    remote = remote_files("logic")[0]  # not served by the mirror
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(tmp_path / "data", ["logic"], base_url_override=base, progress=False, only={remote.path})
    _no_partials(tmp_path / "data")


def test_complete_local_copy_checks_out_offline(tmp_path: Path) -> None:
    if not data_dir().is_dir():
        pytest.skip(f"no datasets at MINDLENS_DATA_DIR={data_dir()}")
    missing = [
        f.path
        for name in ("ptc", "semeval2021", "clickbait", "logic")
        for f in remote_files(name)
        if not (data_dir() / f.path).is_file()
    ]
    if missing:
        pytest.skip(f"incomplete local copy ({len(missing)} files missing)")
    report = fetch(data_dir(), base_url_override=f"http://127.0.0.1:{free_port()}", progress=False)
    assert report.all_local and len(report.files) == 463 + 4 + 2 + 4


def test_unknown_source_is_rejected_and_local_sources_have_nothing_to_fetch(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown data source"):
        fetch(tmp_path, ["nope"], progress=False)
    report = fetch(tmp_path, ["curated", "label_studio"], progress=False)
    assert report.files == [] and report.nothing_to_fetch == ["curated", "label_studio"]
