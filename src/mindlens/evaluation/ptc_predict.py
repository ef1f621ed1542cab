"""Predictions in the official SemEval-2020 Task 11 formats, from any analyzer.

A sentence-level analyzer marks whole sentences as fragments (SI, FLC) and,
for TC, names the most likely PTC technique of each given span's text; a span model
with a TC head classifies each span in the sentences holding it instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mindlens import taxonomy
from mindlens.evaluation.predictions import span_in_sentences
from mindlens.models.analyzer import Analyzer
from mindlens.models.windows import neighbours
from mindlens.preprocessing.sentences import split_sentences
from mindlens.schema import Document

PTC_TECHNIQUES = set(taxonomy.SOURCE_LABELS["ptc"].values())


def predict_flc(
    analyzer: Analyzer, documents: Iterable[Document], threshold: float | None = None
) -> list[tuple[str, str, int, int]]:
    """(article id, technique id, start, end) for every fragment of a PTC technique at or
    above the threshold (whole sentences for a sentence-level analyzer)."""
    threshold = analyzer.min_confidence if threshold is None else threshold
    out = []
    for doc in documents:
        sentences = split_sentences(doc.text, one_per_line=True)
        texts = [s.text for s in sentences]
        _, fragments = analyzer.tag_sentences(texts, threshold, neighbours(texts))
        for sentence, found in zip(sentences, fragments, strict=False):
            out += [
                (doc.native_id, f.technique, sentence.start + f.start, sentence.start + f.end)
                for f in found
                if f.confidence >= threshold and f.technique in PTC_TECHNIQUES
            ]
    return out


def predict_si(
    analyzer: Analyzer, documents: Iterable[Document], threshold: float | None = None
) -> list[tuple[str, int, int]]:
    """(article id, start, end) of every sentence with any technique."""
    return sorted(
        {(a, s, e) for a, _, s, e in predict_flc(analyzer, documents, threshold)},
        key=lambda row: (row[0], row[1]),
    )


def predict_tc(
    analyzer: Analyzer, documents: dict[str, Document], template: Sequence[tuple[str, int, int, str | None]]
) -> list[tuple[str, int, int, str]]:
    """The template's spans, in its order, each with its most likely PTC technique: from the
    TC model that reads the article when the analyzer has one, else its TC head, else its
    sentence scorer on the span text."""
    if analyzer.tc_model is not None:
        return _predict_tc_model(analyzer, documents, template)
    if analyzer.has_tc_head:
        return _predict_tc_head(analyzer, documents, template)
    labels = analyzer.sentence_labels
    allowed = [j for j, label in enumerate(labels) if label in PTC_TECHNIQUES]
    if not allowed:
        raise ValueError("the model knows none of PTC's techniques")
    texts = []
    for article, start, end, _ in template:
        if article not in documents:
            raise ValueError(f"template names article {article}, which is not in the articles folder")
        texts.append(documents[article].text[start:end])
    probs, _ = analyzer.tag_sentences(texts)
    out = []
    for (article, start, end, _), row in zip(template, probs, strict=False):
        best = max(allowed, key=lambda j: row[j])
        out.append((article, start, end, labels[best]))
    return out


def _predict_tc_head(
    analyzer: Analyzer, documents: dict[str, Document], template: Sequence[tuple[str, int, int, str | None]]
) -> list[tuple[str, int, int, str]]:
    """TC with the span model's TC head: each span pooled in the sentences holding it."""
    if analyzer.span_model is None:
        raise ValueError("the analyzer has no span model, so no TC head")
    labels = analyzer.span_model.labels
    allowed = [j for j, label in enumerate(labels) if label in PTC_TECHNIQUES]
    if not allowed:
        raise ValueError("the TC head knows none of PTC's techniques")
    bounds: dict[str, list[tuple[int, int]]] = {}
    items, contexts = [], []
    for article, start, end, _ in template:
        if article not in documents:
            raise ValueError(f"template names article {article}, which is not in the articles folder")
        text = documents[article].text
        if article not in bounds:
            bounds[article] = [(s.start, s.end) for s in split_sentences(text, one_per_line=True)]
        item, context = span_in_sentences(text, bounds[article], start, end)
        items.append(item)
        contexts.append(context)
    _, probs = analyzer.classify_spans(items, contexts if analyzer.reads_context else None)
    return [
        (article, start, end, labels[max(allowed, key=lambda j: row[j])])
        for (article, start, end, _), row in zip(template, probs, strict=False)
    ]


def _predict_tc_model(
    analyzer: Analyzer, documents: dict[str, Document], template: Sequence[tuple[str, int, int, str | None]]
) -> list[tuple[str, int, int, str]]:
    """TC with the analyzer's TC model, each span read in its whole article."""
    labels, _ = analyzer.classify_fragments([])
    allowed = [j for j, label in enumerate(labels) if label in PTC_TECHNIQUES]
    if not allowed:
        raise ValueError("the TC model knows none of PTC's techniques")
    for article, _, _, _ in template:
        if article not in documents:
            raise ValueError(f"template names article {article}, which is not in the articles folder")
    _, probs = analyzer.classify_fragments([(documents[a].text, s, e) for a, s, e, _ in template])
    return [
        (article, start, end, labels[max(allowed, key=lambda j: row[j])])
        for (article, start, end, _), row in zip(template, probs, strict=True)
    ]
