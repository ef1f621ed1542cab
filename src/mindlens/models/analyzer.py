"""The complete analyzer: what one registered model version is and what the API serves.

A bundle is a folder of safe files: ``analyzer.json`` (what is inside, how to
combine it) and the component models as JSON:

- ``sentence_model``: TF-IDF techniques per sentence (trained on span-labelled news);
- ``span_model`` (optional): a transformer tagger (ONNX). Each of its trained heads
  replaces or adds to the JSON models: the sentence head scores sentences (instead of
  ``sentence_model``), the token head finds the fragments themselves (else a fragment
  is the whole sentence), the TC head gives every fragment a second opinion
  (``tc_confidence``) and classifies given spans (PTC's TC task), the clickbait head
  scores the title (instead of ``clickbait_model``);
- ``document_model`` (optional): whole-text techniques and fallacies that only
  document-level sources label (memes, LOGIC);
- ``clickbait_model`` (optional): how clickbait a title is.

``Analyzer.analyze`` turns a text into sentences with techniques and
confidences, document-level scores per technique and per trait, and the
title's clickbait score.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from mindlens import taxonomy
from mindlens.features.evidence import evidence_for
from mindlens.features.signals import compute_signals
from mindlens.models import parallel
from mindlens.models.baseline import TfidfOvrClassifier
from mindlens.models.decoding import FoundSpan
from mindlens.models.onnx_tagger import INT8, TOKENIZER, OnnxTagger  # ONNX + JSON only
from mindlens.models.tagger import Inference, TaggerBase
from mindlens.models.tc_context import TCContextClassifier
from mindlens.models.windows import Context, neighbours
from mindlens.preprocessing.labels import indicator
from mindlens.preprocessing.quotes import find_quotes, quote_of, quoted_share
from mindlens.preprocessing.sentences import split_sentences

FORMAT = "mindlens.analyzer/1"
MANIFEST = "analyzer.json"
COMPONENTS = ("sentence_model", "document_model", "clickbait_model")  # JSON models
SPAN_MODEL = "span_model"  # folder: the int8 ONNX model, tokenizer.json, tagger.json
TC_MODEL = "tc_model"  # JSON: the technique classifier that reads the article (optional)
HEADLINE_CHARS = 150  # a first line longer than this is a paragraph, not a headline


def _check_labels(model: TfidfOvrClassifier | TaggerBase | None) -> None:
    if model is None:
        return
    unknown = [label for label in model.labels if label not in taxonomy.TECHNIQUE_IDS]
    if unknown:
        raise taxonomy.UnknownLabelError(f"model predicts unknown techniques: {unknown}")


def title_of(text: str, title: str | None) -> str:
    """The given title, else the text's first line (articles lead with it), or the first
    sentence when that line is a whole paragraph rather than a headline."""
    if title and title.strip():
        return title.strip()
    for line in text.splitlines():
        line = line.strip(" \t\ufeff")
        if line:
            if len(line) <= HEADLINE_CHARS:
                return line
            sentences = split_sentences(line)
            return sentences[0].text if sentences else line
    return ""


class Analyzer:
    def __init__(
        self,
        sentence_model: TfidfOvrClassifier | None,
        *,
        name: str = "tfidf-baseline",
        min_confidence: float = 0.5,
        metadata: dict[str, Any] | None = None,
        document_model: TfidfOvrClassifier | None = None,
        clickbait_model: TfidfOvrClassifier | None = None,
        span_model: TaggerBase | None = None,
        tc_model: TCContextClassifier | None = None,
    ) -> None:
        if sentence_model is None and (span_model is None or not span_model.config.has("sentence")):
            raise ValueError("an analyzer needs a sentence model or a span model with a sentence head")
        for model in (sentence_model, document_model, clickbait_model, span_model):
            _check_labels(model)
        self.sentence_model = sentence_model
        self.span_model = span_model
        self.document_model = document_model
        self.clickbait_model = clickbait_model
        self.tc_model = tc_model
        self.name = name
        self.min_confidence = min_confidence
        self.metadata = metadata or {}

    # --- sentences: the span model when present, else the TF-IDF sentence model ------
    def _span_head(self, head: str) -> bool:
        return self.span_model is not None and self.span_model.config.has(head)

    def require_span_model(self) -> TaggerBase:
        """The span model, for code that has checked a span head is there."""
        if self.span_model is None:
            raise RuntimeError("this analyzer has no span model")
        return self.span_model

    def _require_sentence_model(self) -> TfidfOvrClassifier:
        """The TF-IDF sentence model, for code that has checked there is no sentence head."""
        if self.sentence_model is None:
            raise RuntimeError("this analyzer has neither a sentence model nor a sentence head")
        return self.sentence_model

    @property
    def sentence_labels(self) -> list[str]:
        if self._span_head("sentence"):
            return list(self.require_span_model().labels)
        return list(self._require_sentence_model().labels)

    @property
    def reads_context(self) -> bool:
        """Whether sentences are scored with their neighbours (a context span model)."""
        return self.span_model is not None and bool(self.span_model.config.context_sentences)

    @property
    def has_tc_head(self) -> bool:
        return self._span_head("tc")

    @property
    def has_clickbait(self) -> bool:
        return self._span_head("clickbait") or self.clickbait_model is not None

    def binarize(self, rows: list[list[str]]) -> np.ndarray:
        return indicator(rows, self.sentence_labels).astype(int)

    def tag_sentences(
        self, texts: list[str], threshold: float | None = None, contexts: list[Context] | None = None
    ) -> tuple[np.ndarray, list[list[FoundSpan]]]:
        """Technique probabilities per text and the fragments found in each (offsets into
        that text). Without a token head a fragment is the whole sentence. ``contexts``
        (previous, next sentence) is read by a span model trained with context; with a TC
        head every fragment carries its ``tc_confidence``."""
        probs, spans, _ = self._tag_sentences(texts, threshold, contexts)
        return probs, spans

    def _tag_sentences(
        self, texts: list[str], threshold: float | None = None, contexts: list[Context] | None = None
    ) -> tuple[np.ndarray, list[list[FoundSpan]], list[float | None]]:
        """``tag_sentences`` plus each text's clickbait probability from the same forward
        pass (None without a clickbait head): ``analyze`` reads the title's from it."""
        threshold = self.min_confidence if threshold is None else threshold
        clickbait: list[float | None] = [None] * len(texts)
        if not texts:
            return np.zeros((0, len(self.sentence_labels))), [], clickbait
        inference: Inference | None = None
        if self._span_head("sentence") or self._span_head("tc"):
            inference = self.require_span_model().infer(texts, contexts=contexts)
        if inference is not None and self._span_head("sentence"):
            span_model = self.require_span_model()
            tagged = span_model.decode(inference)
            probs = np.stack([t.sentence_probs for t in tagged])
            clickbait = [t.clickbait for t in tagged]
            if self._span_head("token"):
                return probs, [t.spans for t in tagged], clickbait
            labels = span_model.labels
        else:
            sentence_model = self._require_sentence_model()
            probs = sentence_model.predict_proba(texts)
            labels = sentence_model.labels
        spans = [
            [
                FoundSpan(0, len(text), label, float(p))
                for label, p in zip(labels, row, strict=False)
                if p >= threshold
            ]
            for text, row in zip(texts, probs, strict=False)
        ]
        if inference is not None and self._span_head("tc"):
            tc_labels = self.require_span_model().labels
            spans = [inference.with_tc(i, found, tc_labels) for i, found in enumerate(spans)]
        return probs, spans, clickbait

    def classify_spans(
        self, items: list[tuple[str, int, int]], contexts: list[Context] | None = None
    ) -> tuple[list[str], np.ndarray]:
        """The TC head's technique distribution for spans given as (text holding the span,
        start, end): its labels and [spans, labels] probabilities (uniform for a span with
        no token). Texts repeated across items run through the network once."""
        if not self.has_tc_head:
            raise ValueError("this analyzer's span model has no TC head")
        span_model = self.require_span_model()
        return list(span_model.labels), span_model.classify_items(items, contexts)

    def classify_fragments(self, fragments: list[tuple[str, int, int]]) -> tuple[list[str], np.ndarray]:
        """The technique distribution of fragments given as (whole document text, start, end),
        from the TC model that reads the article: its labels and [fragments, labels]
        probabilities. Raises when the analyzer has none (``tc_model`` is None)."""
        if self.tc_model is None or self.tc_model.labels is None:
            raise ValueError("this analyzer has no (fitted) TC model that reads the article")
        labels = list(self.tc_model.labels)
        if not fragments:
            return labels, np.zeros((0, len(labels)))
        return labels, self.tc_model.predict_proba(fragments)

    @property
    def labels(self) -> list[str]:
        """Every technique this analyzer can report, in taxonomy order."""
        own = set(self.sentence_labels)
        if self.document_model is not None:
            own |= set(self.document_model.labels)
        return [t for t in taxonomy.TECHNIQUE_IDS if t in own]

    def document_model_scores(self, text: str) -> dict[str, float]:
        """The document model's own score per technique it knows ({} without one)."""
        if self.document_model is None or not text.strip():
            return {}
        probs = self.document_model.predict_proba([text])[0]
        return {label: float(p) for label, p in zip(self.document_model.labels, probs, strict=False)}

    def document_scores(
        self,
        text: str,
        sentence_probs: np.ndarray | None = None,
        document_model_scores: dict[str, float] | None = None,
    ) -> dict[str, float]:
        """Whole-text score per technique: the best sentence for techniques the sentence
        model knows, the document model for the rest (``document_model_scores`` when the
        caller has them already)."""
        if sentence_probs is None:
            texts = [s.text for s in split_sentences(text)]
            sentence_probs, _ = self.tag_sentences(texts, contexts=neighbours(texts))
        if len(sentence_probs):
            scores = {
                label: float(p)
                for label, p in zip(self.sentence_labels, sentence_probs.max(axis=0), strict=False)
            }
        else:
            scores = {label: 0.0 for label in self.sentence_labels}
        if document_model_scores is None:
            document_model_scores = self.document_model_scores(text)
        for label, p in document_model_scores.items():
            scores.setdefault(label, p)
        return {t: scores[t] for t in taxonomy.TECHNIQUE_IDS if t in scores}

    def clickbait_scores(self, headlines: list[str]) -> np.ndarray | None:
        """Clickbait probability per headline: the span model's clickbait head when it has
        one, else the TF-IDF clickbait model; None without either."""
        if self._span_head("clickbait"):
            return np.array([t.clickbait for t in self.require_span_model().tag(headlines)], dtype=float)
        if self.clickbait_model is not None:
            return self.clickbait_model.predict_proba(headlines)[:, 0]
        return None

    def clickbait_score(self, headline: str) -> float | None:
        if not self.has_clickbait or not headline.strip():
            return None
        scores = self.clickbait_scores([headline])
        if scores is None:  # has_clickbait promised a clickbait head or model
            raise RuntimeError("this analyzer has no clickbait model")
        return float(scores[0])

    def _title_clickbait(
        self, headline: str, texts: list[str], sentence_clickbait: list[float | None]
    ) -> float | None:
        """The headline's clickbait score, read from the sentence pass when the headline is
        one of the sentences it scored on its own (no context segment: a context model read
        it beside its neighbours), else from a pass over the headline alone. The int8 graph
        is batch-invariant, so both give the same number."""
        if headline in texts and not self.reads_context:
            found = sentence_clickbait[texts.index(headline)]
            if found is not None:
                return found
        return self.clickbait_score(headline)

    def analyze(
        self,
        text: str,
        *,
        min_confidence: float | None = None,
        title: str | None = None,
        quoted_weight: float = 1.0,
    ) -> dict[str, Any]:
        """Per-sentence techniques, document and trait scores, and the title's clickbait score.

        Every fragment says whether it sits inside a quotation and whose words they are
        (``quoted``, ``speaker``). ``quoted_weight`` below 1 discounts quoted words in the
        document scores: a sentence's probabilities count ``1 - share * (1 - weight)``,
        ``share`` being the part of it inside quotes (1.0, the default, counts everything,
        as PTC's annotators label quoted propaganda too).
        """
        if not 0.0 <= quoted_weight <= 1.0:
            raise ValueError(f"quoted_weight must lie in [0, 1], not {quoted_weight}")
        started = time.perf_counter()
        threshold = self.min_confidence if min_confidence is None else min_confidence
        # the signals and the document model need no network: they run on the pool meanwhile
        pending_signals = parallel.submit(compute_signals, text)
        pending_document = parallel.submit(self.document_model_scores, text)
        sentences = split_sentences(text)
        texts = [s.text for s in sentences]
        probs, fragments, sentence_clickbait = self._tag_sentences(
            texts, threshold, contexts=neighbours(texts)
        )
        quotes = find_quotes(text)
        labels = self.sentence_labels
        rows: list[dict[str, Any]] = []
        spans: list[dict[str, Any]] = []
        for i, (sentence, row, found_spans) in enumerate(zip(sentences, probs, fragments, strict=False)):
            found = [
                {
                    "technique": labels[j],
                    "name": taxonomy.technique(labels[j]).name,
                    "trait": taxonomy.technique(labels[j]).trait,
                    "confidence": round(float(row[j]), 4),
                }
                for j in np.argsort(-row)
                if row[j] >= threshold
            ]
            rows.append(
                {
                    "index": i,
                    "start": sentence.start,
                    "end": sentence.end,
                    "text": sentence.text,
                    "techniques": found,
                }
            )
            for span in found_spans:
                if span.confidence < threshold:
                    continue
                start, end = sentence.start + span.start, sentence.start + span.end
                technique = taxonomy.technique(span.technique)
                spans.append(
                    {
                        "start": start,
                        "end": end,
                        "text": text[start:end],
                        "technique": span.technique,
                        "name": technique.name,
                        "trait": technique.trait,
                        "confidence": round(span.confidence, 4),
                        "sentence": i,
                    }
                )
                if span.tc_confidence is not None:  # the TC head's probability of this technique
                    spans[-1]["tc_confidence"] = round(span.tc_confidence, 4)
                quote = quote_of(quotes, start, end)
                spans[-1]["quoted"] = quote is not None
                spans[-1]["speaker"] = quote.speaker if quote is not None else None
        if self.tc_model is not None and spans:  # the second opinion reads the whole article
            tc_labels, tc_probs = self.classify_fragments([(text, e["start"], e["end"]) for e in spans])
            for entry, row in zip(spans, tc_probs, strict=True):
                if entry["technique"] in tc_labels:
                    entry["tc_confidence"] = round(float(row[tc_labels.index(entry["technique"])]), 4)
        signals = pending_signals.result()
        for entry in spans:
            entry["evidence"] = span_evidence(entry, signals)
        scored = probs
        if quoted_weight < 1.0 and len(probs) and quotes:
            shares = np.array([quoted_share(quotes, s.start, s.end) for s in sentences])
            scored = probs * (1.0 - shares * (1.0 - quoted_weight))[:, None]
        technique_scores = {
            k: round(v, 4) for k, v in self.document_scores(text, scored, pending_document.result()).items()
        }
        headline = title_of(text, title)
        clickbait = self._title_clickbait(headline, texts, sentence_clickbait)
        if clickbait is not None:
            technique_scores["clickbait"] = round(clickbait, 4)
        trait_scores = {
            t.id: max(
                (technique_scores.get(tid, 0.0) for tid in taxonomy.techniques_of_trait(t.id)), default=0.0
            )
            for t in taxonomy.TRAITS
        }
        return {
            "sentences": rows,
            "spans": sorted(spans, key=lambda s: (s["start"], s["end"], s["technique"])),
            "document": {
                "score": max(technique_scores.values(), default=0.0),
                "techniques": technique_scores,
                "traits": trait_scores,
            },
            "title": {"text": headline, "clickbait": None if clickbait is None else round(clickbait, 4)},
            "signals": {name: round(signal.value, 4) for name, signal in signals.items()},
            "min_confidence": threshold,
            "timings_ms": {"model": round((time.perf_counter() - started) * 1000, 2)},
        }

    # --- bundle persistence -------------------------------------------------
    def save(self, folder: Path, *, compact: bool = False) -> Path:
        """Write the bundle; ``compact`` gzips the JSON models with rounded weights
        (release bundles shipped in the repository)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "min_confidence": self.min_confidence,
            "metadata": self.metadata,
        }
        for component in COMPONENTS:
            model = getattr(self, component)
            if model is not None:
                name = f"{component}.json.gz" if compact else f"{component}.json"
                model.save(folder / name, digits=5 if compact else None)
                manifest[component] = name
        if self.tc_model is not None:
            name = f"{TC_MODEL}.json.gz" if compact else f"{TC_MODEL}.json"
            self.tc_model.save(folder / name, digits=6 if compact else None)
            manifest[TC_MODEL] = name
        if self.span_model is not None:
            source = getattr(self.span_model, "folder", None)
            if source is None:
                raise ValueError("the span model must be an exported ONNX tagger to be saved in a bundle")
            target = folder / SPAN_MODEL
            target.mkdir(exist_ok=True)
            for name in (INT8, TOKENIZER):
                shutil.copyfile(Path(source) / name, target / name)
            self.span_model.config.save(target)  # as it is now (e.g. with tuned decoding)
            manifest[SPAN_MODEL] = SPAN_MODEL
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        return folder

    @classmethod
    def load(cls, folder: Path, *, threads: int | None = None) -> Analyzer:
        """Load a bundle: JSON only, nothing is unpickled or executed. ``threads``: ONNX
        Runtime's intra-op threads for the span model (None: one per session, with a text's
        batches run side by side on every core; see ``OnnxTagger.load``)."""
        manifest_path = find_bundle(Path(folder))
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{manifest_path} is not a {FORMAT} bundle")
        models: dict[str, TfidfOvrClassifier] = {}
        for component in COMPONENTS:
            name = manifest.get(component)
            if name is not None:
                if Path(name).name != name:  # a bundle names files beside it, nothing else
                    raise ValueError(f"{manifest_path}: bad component file name {name!r}")
                models[component] = TfidfOvrClassifier.load(manifest_path.parent / name)
        span_model: TaggerBase | None = None
        if manifest.get(SPAN_MODEL):
            if manifest[SPAN_MODEL] != SPAN_MODEL:
                raise ValueError(f"{manifest_path}: bad span model folder {manifest[SPAN_MODEL]!r}")
            span_model = OnnxTagger.load(manifest_path.parent / SPAN_MODEL, variant="int8", threads=threads)
        tc_model = None
        if manifest.get(TC_MODEL):
            if Path(manifest[TC_MODEL]).name != manifest[TC_MODEL]:
                raise ValueError(f"{manifest_path}: bad TC model file name {manifest[TC_MODEL]!r}")
            tc_model = TCContextClassifier.load(manifest_path.parent / manifest[TC_MODEL])
        if "sentence_model" not in models and span_model is None:
            raise ValueError(f"{manifest_path} has neither a sentence model nor a span model")
        return cls(
            models.get("sentence_model"),
            name=manifest["name"],
            min_confidence=manifest["min_confidence"],
            metadata=manifest.get("metadata", {}),
            document_model=models.get("document_model"),
            clickbait_model=models.get("clickbait_model"),
            span_model=span_model,
            tc_model=tc_model,
        )


def span_evidence(span: dict[str, Any], signals: dict[str, Any]) -> list[dict[str, Any]]:
    """Heuristic cues for the span's technique whose trigger words lie inside the span
    (what a reader can check for themselves)."""
    out = []
    for cue in evidence_for(span["technique"], signals):
        words = [e for e in cue["evidence"] if span["start"] <= e["start"] and e["end"] <= span["end"]]
        if words:
            out.append({"signal": cue["signal"], "description": cue["description"], "words": words})
    return out


def find_bundle(folder: Path) -> Path:
    """The ``analyzer.json`` at or below ``folder`` (MLflow nests artifacts)."""
    direct = Path(folder) / MANIFEST
    if direct.is_file():
        return direct
    found = sorted(Path(folder).rglob(MANIFEST))
    if not found:
        raise FileNotFoundError(f"no {MANIFEST} under {folder}")
    return found[0]
