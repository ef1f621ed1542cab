"""Sentence splitters on PTC: boundary precision/recall/F1 and speed.

PTC articles hold one sentence per line, which gives a gold segmentation: each
article's non-blank lines (trimmed) are joined with single spaces, and the gold
boundaries are the ends of all lines but the last. Every splitter reads the joined
text (no newlines left to lean on) and returns character offsets; a predicted
boundary is the end of a predicted sentence (trailing whitespace trimmed), again all
but the last. Scores are micro over all articles; a boundary counts only at the exact
character. An offset map from the joined text back to the article file places the
``--examples`` errors in the original.

Splitters: MindLens's ``split_sentences`` and, where installed
(``pip install -r benchmarks/requirements.txt``), pysbd (``char_span=True``),
blingfire (``text_to_sentences_and_offsets``) and spaCy's rule-based
``sentencizer`` on a blank ``English()`` pipeline. None needs a downloaded model.

    python benchmarks/bench_sentence_split.py [--articles DIR] [--repeat 1] [--examples 0]

Prints a Markdown table. "R after . ! ? …" is recall on the gold boundaries whose line
ends in sentence punctuation (optionally closing quotes or brackets): headlines and
other unpunctuated lines cannot be found in the joined text by any of these. Time is
the best of ``--repeat`` passes over the whole corpus (one process, the splitter
built and warmed up beforehand); a shared 2-core machine varies
by +-20 %, so compare splitters within one run.
"""

from __future__ import annotations

import argparse
import os
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from mindlens.preprocessing.sentences import split_sentences

Splitter = Callable[[str], list[tuple[int, int]]]
_BLANK = string.whitespace + "\ufeff\u00a0"
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
PTC_TRAIN = Path("ptc-semeval2020-task11") / "datasets" / "train-articles"


@dataclass
class Article:
    name: str
    text: str  # the non-blank lines, trimmed, joined with single spaces
    gold: set[int]  # boundary offsets into ``text``
    punctuated: set[int]  # the gold boundaries after sentence punctuation (a splitter can see them)
    origin: list[int]  # origin[i]: offset in the article file of text[i]
    n_sentences: int


def load_article(path: Path) -> Article:
    raw = path.read_text(encoding="utf-8")
    parts: list[str] = []
    origin: list[int] = []
    ends: list[int] = []
    position = 0  # offset of the current line in the file
    for line in raw.split("\n"):
        stripped = line.strip(_BLANK)
        if stripped:
            if parts:
                parts.append(" ")
                origin.append(origin[-1] + 1)  # the joining space stands for the line break
            lead = len(line) - len(line.lstrip(_BLANK))
            parts.append(stripped)
            origin.extend(range(position + lead, position + lead + len(stripped)))
            ends.append(len(origin))
        position += len(line) + 1
    text = "".join(parts)
    assert len(text) == len(origin)
    gold = set(ends[:-1])
    punctuated = {end for end in gold if _ENDS_SENTENCE.search(text, 0, end)}
    return Article(path.name, text, gold, punctuated, origin, len(ends))


def boundaries(text: str, spans: list[tuple[int, int]]) -> set[int]:
    """Ends of the predicted sentences, trailing blanks trimmed, the end of the text left out."""
    last = len(text.rstrip(_BLANK))
    out = set()
    for start, end in spans:
        while end > start and text[end - 1] in _BLANK:
            end -= 1
        if start < end < last:
            out.add(end)
    return out


def _mindlens() -> Splitter:
    return lambda text: [(s.start, s.end) for s in split_sentences(text)]


def _pysbd() -> Splitter:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return lambda text: [(s.start, s.end) for s in segmenter.segment(text)]


def _blingfire() -> Splitter:
    from blingfire import text_to_sentences_and_offsets

    return lambda text: list(text_to_sentences_and_offsets(text)[1]) if text else []


def _spacy() -> Splitter:
    from spacy.lang.en import English

    nlp = English()
    nlp.add_pipe("sentencizer")
    nlp.max_length = 10_000_000
    return lambda text: [(s.start_char, s.end_char) for s in nlp(text).sents]


SPLITTERS: dict[str, tuple[str, Callable[[], Splitter]]] = {
    "mindlens split_sentences (regex)": ("mindlens", _mindlens),
    "pysbd (char_span=True)": ("pysbd", _pysbd),
    "blingfire text_to_sentences_and_offsets": ("blingfire", _blingfire),
    "spaCy blank English + sentencizer": ("spacy", _spacy),
}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def evaluate(split: Splitter, articles: list[Article], repeat: int) -> tuple[dict[str, float], list]:
    split(articles[0].text)  # warm-up: lazy loading and compilation are not timed
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        predicted = [split(a.text) for a in articles]
        best = min(best, time.perf_counter() - started)
    tp = fp = fn = n_pred = punctuated_found = 0
    errors = []
    for article, spans in zip(articles, predicted, strict=True):
        pred = boundaries(article.text, spans)
        tp += len(pred & article.gold)
        fp += len(pred - article.gold)
        fn += len(article.gold - pred)
        punctuated_found += len(pred & article.punctuated)
        n_pred += len(pred) + 1
        errors += [(article, b, "split inside a line") for b in sorted(pred - article.gold)]
        errors += [(article, b, "missed a line end") for b in sorted(article.gold - pred)]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    chars = sum(len(a.text) for a in articles)
    scores = {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "recall_punctuated": punctuated_found / sum(len(a.punctuated) for a in articles),
        "sentences": n_pred,
        "seconds": best,
        "chars_per_s": chars / best if best else float("inf"),
    }
    return scores, errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data_dir = Path(os.environ.get("MINDLENS_DATA_DIR", "../shared/datasets"))
    parser.add_argument("--articles", type=Path, default=data_dir / PTC_TRAIN)
    parser.add_argument("--repeat", type=int, default=1, help="timed passes; the best counts")
    parser.add_argument("--examples", type=int, default=0, help="errors to show per splitter")
    args = parser.parse_args(argv)

    paths = sorted(args.articles.glob("article*.txt"))
    if not paths:
        raise SystemExit(f"no article*.txt under {args.articles}: set MINDLENS_DATA_DIR or --articles")
    articles = [load_article(p) for p in paths]
    n_gold = sum(len(a.gold) for a in articles)
    n_punctuated = sum(len(a.punctuated) for a in articles)
    chars = sum(len(a.text) for a in articles)
    print(
        f"{len(articles)} PTC articles, {sum(a.n_sentences for a in articles)} gold sentences "
        f"(lines), {n_gold} gold boundaries ({n_punctuated} after . ! ? or …), {chars:,} characters\n"
    )
    print(
        "| splitter | version | boundary P | boundary R | boundary F1 | R after . ! ? … "
        "| sentences | seconds | chars/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    shown = []
    for label, (package, build) in SPLITTERS.items():
        try:
            split = build()
        except ImportError:
            print(f"| {label} | not installed | | | | | | | |")
            continue
        scores, errors = evaluate(split, articles, args.repeat)
        print(
            f"| {label} | {_version(package)} | {scores['precision']:.4f} | {scores['recall']:.4f} | "
            f"{scores['f1']:.4f} | {scores['recall_punctuated']:.4f} | {scores['sentences']} | "
            f"{scores['seconds']:.2f} | "
            f"{scores['chars_per_s']:,.0f} |"
        )
        shown.append((label, errors[: args.examples]))
    for label, errors in shown:
        if errors:
            print(f"\n{label}:")
        for article, offset, kind in errors:
            context = article.text[max(0, offset - 40) : offset] + " | " + article.text[offset : offset + 40]
            print(f"  {article.name} @{article.origin[offset - 1] + 1} {kind}: {context!r}")


if __name__ == "__main__":
    main()
