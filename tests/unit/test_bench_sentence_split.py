"""benchmarks/bench_sentence_split.py: the gold built from PTC's lines, and a smoke run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "bench_sentence_split", ROOT / "benchmarks" / "bench_sentence_split.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


ARTICLE = '\ufeffBig news today\n\n  He said "no."  \nDr. Smith agreed! Then he left.\n\n'


def test_gold_joins_lines_and_maps_offsets_back(bench, tmp_path: Path) -> None:
    path = tmp_path / "article1.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    article = bench.load_article(path)
    assert article.text == 'Big news today He said "no." Dr. Smith agreed! Then he left.'
    assert article.n_sentences == 3
    assert article.gold == {14, 28}  # after "today" and after the closing quote
    assert article.punctuated == {28}  # a headline has no full stop to find
    for i, char in enumerate(article.text):
        if article.text[i - 1 : i + 1] not in ("y ", '" '):  # the joining spaces stand for line breaks
            assert ARTICLE[article.origin[i]] == char


def test_boundaries_trim_trailing_blanks_and_leave_out_the_end(bench) -> None:
    text = "One. Two.  Three."
    assert bench.boundaries(text, [(0, 5), (5, 11), (11, 17)]) == {4, 9}


def test_smoke_run_prints_a_table(bench, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for n in range(2):
        (tmp_path / f"article{n}.txt").write_text(ARTICLE, encoding="utf-8")
    bench.main(["--articles", str(tmp_path), "--repeat", "1"])
    out = capsys.readouterr().out
    assert "2 PTC articles, 6 gold sentences (lines), 4 gold boundaries" in out
    row = next(line for line in out.splitlines() if line.startswith("| mindlens"))
    # ours finds the punctuated line end and splits "agreed! Then": P 1/2, R 1/2 per article
    assert "| 0.5000 | 0.5000 | 0.5000 | 1.0000 |" in row
