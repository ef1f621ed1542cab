"""The complete analyzer: what one registered model version is and what the API serves.

A bundle is a folder of safe files: ``analyzer.json`` (what is inside, how to
combine it) and the component models as JSON. ``Analyzer.analyze`` turns a
text into sentences with techniques and confidences, document-level scores
per technique and per trait.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from mindlens import taxonomy
from mindlens.models.baseline import TfidfOvrClassifier
from mindlens.preprocessing.sentences import split_sentences

FORMAT = "mindlens.analyzer/1"
MANIFEST = "analyzer.json"
SENTENCE_MODEL = "sentence_model.json"


class Analyzer:
    def __init__(self, sentence_model: TfidfOvrClassifier, *, name: str = "tfidf-baseline",
                 min_confidence: float = 0.5, metadata: dict[str, Any] | None = None) -> None:
        unknown = [label for label in sentence_model.labels if label not in taxonomy.TECHNIQUE_IDS]
        if unknown:
            raise taxonomy.UnknownLabelError(f"model predicts unknown techniques: {unknown}")
        self.sentence_model = sentence_model
        self.name = name
        self.min_confidence = min_confidence
        self.metadata = metadata or {}

    def analyze(self, text: str, *, min_confidence: float | None = None) -> dict[str, Any]:
        """Per-sentence techniques and document scores for one text."""
        started = time.perf_counter()
        threshold = self.min_confidence if min_confidence is None else min_confidence
        sentences = split_sentences(text)
        probs = self.sentence_model.predict_proba([s.text for s in sentences])
        labels = self.sentence_model.labels
        rows = []
        for i, (sentence, row) in enumerate(zip(sentences, probs)):
            found = [
                {"technique": labels[j], "name": taxonomy.technique(labels[j]).name,
                 "trait": taxonomy.technique(labels[j]).trait, "confidence": round(float(row[j]), 4)}
                for j in np.argsort(-row) if row[j] >= threshold
            ]
            rows.append({"index": i, "start": sentence.start, "end": sentence.end,
                         "text": sentence.text, "techniques": found})
        doc_scores = probs.max(axis=0) if len(sentences) else np.zeros(len(labels))
        technique_scores = {label: round(float(s), 4) for label, s in zip(labels, doc_scores)}
        trait_scores = {
            t.id: max((technique_scores.get(tid, 0.0) for tid in taxonomy.techniques_of_trait(t.id)),
                      default=0.0)
            for t in taxonomy.TRAITS
        }
        return {
            "sentences": rows,
            "document": {
                "score": max(technique_scores.values(), default=0.0),
                "techniques": technique_scores,
                "traits": trait_scores,
            },
            "min_confidence": threshold,
            "timings_ms": {"model": round((time.perf_counter() - started) * 1000, 2)},
        }

    # --- bundle persistence -------------------------------------------------
    def save(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.sentence_model.save(folder / SENTENCE_MODEL)
        manifest = {"format": FORMAT, "name": self.name, "min_confidence": self.min_confidence,
                    "sentence_model": SENTENCE_MODEL, "metadata": self.metadata}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        return folder

    @classmethod
    def load(cls, folder: Path) -> "Analyzer":
        """Load a bundle: JSON only, nothing is unpickled or executed."""
        folder = Path(folder)
        manifest_path = find_bundle(folder)
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{manifest_path} is not a {FORMAT} bundle")
        model = TfidfOvrClassifier.load(manifest_path.parent / manifest["sentence_model"])
        return cls(model, name=manifest["name"], min_confidence=manifest["min_confidence"],
                   metadata=manifest.get("metadata", {}))


def find_bundle(folder: Path) -> Path:
    """The ``analyzer.json`` at or below ``folder`` (MLflow nests artifacts)."""
    direct = Path(folder) / MANIFEST
    if direct.is_file():
        return direct
    found = sorted(Path(folder).rglob(MANIFEST))
    if not found:
        raise FileNotFoundError(f"no {MANIFEST} under {folder}")
    return found[0]
