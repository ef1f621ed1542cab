"""A technique classifier (TC) for a given fragment that reads the whole article.

Input: fragments as ``(document text, start, end)`` (or :class:`Fragment`). Features
(``DEFAULT_FEATURES`` unless ``features`` names others):

- ``frag_word`` / ``frag_char``: TF-IDF of the fragment, word 1-2-grams / char 2-5-grams;
- ``context``: TF-IDF of the sentence(s) holding it, the fragment masked;
- ``neighbours``: TF-IDF of the sentence before and after;
- ``repetition``, ``position``, ``shape``, ``heuristics``: dense document-aware measurements
  (:mod:`mindlens.models.tc_features`), standardised with the training mean/scale.

One multinomial logistic regression over all of them, with class weights
``(n / (k * n_c)) ** class_weight_power`` for the rare techniques (0: none, 1: balanced).

Persisted as plain JSON (vocabularies, idf, scaling, weights), never pickle, like
:class:`mindlens.models.baseline.TfidfOvrClassifier`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn import config_context
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from mindlens.models.json_files import read_json, rounded, write_json
from mindlens.models.tc_features import (
    DENSE_FAMILIES,
    DocumentView,
    Fragment,
    check_fragment,
    dense_block,
    views,
)

FORMAT = "mindlens.tc_context/1"
TEXT_FAMILIES = ("frag_word", "frag_char", "context", "neighbours")
DENSE = tuple(DENSE_FAMILIES)
FAMILIES = TEXT_FAMILIES + DENSE
# What the grouped-CV ablation (benchmarks/tc_context.py, docs/TC_MODEL.md) kept: position and
# heuristic signals measured no gain (within a fold's sd) and are off unless asked for.
DEFAULT_FEATURES = ("frag_word", "frag_char", "context", "neighbours", "repetition", "shape")
_VECTORIZER: dict[str, dict[str, Any]] = {
    "frag_word": {"analyzer": "word", "ngram_range": (1, 2)},
    "frag_char": {"analyzer": "char_wb", "ngram_range": (2, 5)},
    "context": {"analyzer": "word", "ngram_range": (1, 2)},
    "neighbours": {"analyzer": "word", "ngram_range": (1, 1)},
}


def _text_of(family: str, fragment: Fragment, view: DocumentView) -> str:
    if family in ("frag_word", "frag_char"):
        return fragment.span_text
    if family == "context":
        return view.context_text(fragment.start, fragment.end)
    return view.neighbour_text(fragment.start, fragment.end)


class TCContextClassifier:
    """Multiclass technique classifier for fragments read in their document."""

    def __init__(
        self,
        labels: Sequence[str] | None = None,
        *,
        features: Sequence[str] = DEFAULT_FEATURES,
        C: float = 2.0,
        class_weight_power: float = 1.0,
        min_df: int = 2,
        max_features: int = 30000,
        dense_scale: float = 0.3,
        max_iter: int = 3000,
    ) -> None:
        unknown = set(features) - set(FAMILIES)
        if unknown or not features:
            raise ValueError(f"unknown or no feature families {sorted(unknown)}; known: {FAMILIES}")
        self.labels = None if labels is None else list(labels)
        self.params: dict[str, Any] = dict(
            features=[f for f in FAMILIES if f in features],
            C=C,
            class_weight_power=class_weight_power,
            min_df=min_df,
            max_features=max_features,
            dense_scale=dense_scale,
            max_iter=max_iter,
        )
        self.vectorizers: dict[str, TfidfVectorizer] = {}
        self.dense_mean_: dict[str, np.ndarray] = {}
        self.dense_scale_: dict[str, np.ndarray] = {}
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.class_weight_: dict[str, float] = {}

    @property
    def features(self) -> list[str]:
        return list(self.params["features"])

    # --- features -------------------------------------------------------------------------
    def _new_vectorizer(self, family: str, **extra: Any) -> TfidfVectorizer:
        return TfidfVectorizer(
            sublinear_tf=True,
            lowercase=True,
            strip_accents="unicode",
            dtype=np.float64,
            **_VECTORIZER[family],
            **extra,
        )

    def _matrix(self, fragments: Sequence[Fragment], fit: bool) -> sparse.csr_matrix:
        doc_views = views(fragments)
        blocks = []
        for family in self.features:
            if family in TEXT_FAMILIES:
                texts = [_text_of(family, f, v) for f, v in zip(fragments, doc_views, strict=True)]
                if fit:
                    min_df = self.params["min_df"] if len(texts) >= 4 * self.params["min_df"] else 1
                    self.vectorizers[family] = self._new_vectorizer(
                        family, min_df=min_df, max_features=self.params["max_features"]
                    )
                    blocks.append(self.vectorizers[family].fit_transform(texts))
                else:
                    blocks.append(self.vectorizers[family].transform(texts))
                continue
            values = dense_block(family, fragments, doc_views)
            if fit:
                std = values.std(axis=0)
                self.dense_mean_[family] = values.mean(axis=0)
                self.dense_scale_[family] = np.where(std > 0, std, 1.0)
            scaled = (values - self.dense_mean_[family]) / self.dense_scale_[family]
            blocks.append(sparse.csr_matrix(scaled * self.params["dense_scale"]))
        return sparse.hstack(blocks, format="csr")

    # --- fit / predict --------------------------------------------------------------------
    def fit(self, examples: Sequence[Any], labels: Sequence[str]) -> TCContextClassifier:
        """Fit on fragments (``(text, start, end)`` or :class:`Fragment`) and one technique each."""
        fragments = [check_fragment(e) for e in examples]
        if len(fragments) != len(labels):
            raise ValueError(f"{len(fragments)} examples but {len(labels)} labels")
        if not fragments:
            raise ValueError("no examples to fit")
        seen = sorted(set(labels))
        if self.labels is None:
            self.labels = seen
        missing = set(seen) - set(self.labels)
        if missing:
            raise ValueError(f"labels {sorted(missing)} are not among the model's labels")
        if len(seen) < 2:
            raise ValueError("need examples of at least two techniques")
        features = self._matrix(fragments, fit=True)
        counts = Counter(labels)
        power = self.params["class_weight_power"]
        self.class_weight_ = {
            label: float((len(labels) / (len(seen) * counts[label])) ** power) for label in seen
        }
        model = LogisticRegression(
            C=self.params["C"], class_weight=self.class_weight_, max_iter=self.params["max_iter"]
        )
        model.fit(features, list(labels))
        # Rows in the model's label order; labels never seen in training get no probability.
        self.coef_ = np.zeros((len(self.labels), features.shape[1]))
        self.intercept_ = np.full(len(self.labels), -30.0)
        coef, intercept = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # sklearn's binary form: one row for classes_[1]
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept / 2, intercept / 2]
        for row, label in enumerate(model.classes_):
            j = self.labels.index(label)
            self.coef_[j] = coef[row]
            self.intercept_[j] = intercept[row]
        return self

    def decision_function(self, examples: Sequence[Any]) -> np.ndarray:
        if self.coef_ is None or self.intercept_ is None or self.labels is None:
            raise RuntimeError("model is not fitted")
        fragments = [check_fragment(e) for e in examples]
        if not fragments:
            return np.zeros((0, len(self.labels)))
        # fitted vectorizers, our own inputs: sklearn's per-call checks cost a fifth of a call
        with config_context(assume_finite=True, skip_parameter_validation=True):
            matrix = self._matrix(fragments, fit=False)
        return np.asarray(matrix @ self._coef_columns()) + self.intercept_

    def _coef_columns(self) -> np.ndarray:
        """``coef_.T`` made contiguous once: scipy copied the strided transpose (features x
        labels) on every call, a tenth of the call's time."""
        cached = self.__dict__.get("_coef_t")
        if cached is None or cached[0] is not self.coef_:
            cached = (self.coef_, np.ascontiguousarray(np.asarray(self.coef_).T))
            self._coef_t = cached
        return cached[1]

    def predict_proba(self, examples: Sequence[Any]) -> np.ndarray:
        """[examples, labels] technique distribution (columns in ``self.labels`` order)."""
        scores = self.decision_function(examples)
        scores -= scores.max(axis=1, keepdims=True) if len(scores) else 0.0
        probs = np.exp(scores)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, examples: Sequence[Any]) -> list[str]:
        probs = self.predict_proba(examples)
        assert self.labels is not None
        return [self.labels[j] for j in probs.argmax(axis=1)]

    # --- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        if self.coef_ is None or self.intercept_ is None or self.labels is None:
            raise RuntimeError("model is not fitted")
        vectorizers = {}
        for family, vectorizer in self.vectorizers.items():
            vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda kv: kv[1])
            vectorizers[family] = {
                "vocabulary": [term for term, _ in vocabulary],
                "idf": vectorizer.idf_.tolist(),
            }
        return {
            "format": FORMAT,
            "labels": self.labels,
            "params": self.params,
            "vectorizers": vectorizers,
            "dense": {
                family: {
                    "mean": self.dense_mean_[family].tolist(),
                    "scale": self.dense_scale_[family].tolist(),
                }
                for family in self.dense_mean_
            },
            "class_weight": self.class_weight_,
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TCContextClassifier:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: format={data.get('format')!r}")
        model = cls(data["labels"], **data["params"])
        width = 0
        for family in model.features:
            if family in TEXT_FAMILIES:
                saved = data["vectorizers"][family]
                vocabulary = {term: i for i, term in enumerate(saved["vocabulary"])}
                vectorizer = model._new_vectorizer(family, vocabulary=vocabulary)
                vectorizer.vocabulary_ = vocabulary
                vectorizer.idf_ = np.asarray(saved["idf"], dtype=np.float64)
                model.vectorizers[family] = vectorizer
                width += len(vocabulary)
            else:
                saved = data["dense"][family]
                model.dense_mean_[family] = np.asarray(saved["mean"], dtype=np.float64)
                model.dense_scale_[family] = np.asarray(saved["scale"], dtype=np.float64)
                if len(model.dense_mean_[family]) != len(DENSE_FAMILIES[family][0]):
                    raise ValueError(f"saved {family} scaling does not match this version's features")
                width += len(model.dense_mean_[family])
        model.class_weight_ = {k: float(v) for k, v in data["class_weight"].items()}
        model.coef_ = np.asarray(data["coef"], dtype=np.float64)
        model.intercept_ = np.asarray(data["intercept"], dtype=np.float64)
        if model.coef_.shape != (len(data["labels"]), width) or len(model.intercept_) != len(data["labels"]):
            raise ValueError("model weights do not match its labels and features")
        return model

    def save(self, path: Path, *, digits: int | None = None) -> None:
        """JSON, gzip-compressed when the name ends in ``.gz``; ``digits`` rounds the weights."""
        data = self.to_dict()
        if digits is not None:
            data["coef"] = rounded(data["coef"], digits)
        write_json(path, data)

    @classmethod
    def load(cls, path: Path) -> TCContextClassifier:
        return cls.from_dict(read_json(path))


# --- ensemble with another model's TC probabilities ---------------------------------------
def log_linear_mix(p_own: np.ndarray, p_other: np.ndarray, weight: float, eps: float = 1e-6) -> np.ndarray:
    """``p_own ** (1 - weight) * p_other ** weight``, renormalised (same column order)."""
    if p_own.shape != p_other.shape:
        raise ValueError(f"probability shapes differ: {p_own.shape} vs {p_other.shape}")
    logits = (1 - weight) * np.log(p_own + eps) + weight * np.log(p_other + eps)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def fit_mix_weight(
    p_own: np.ndarray, p_other: np.ndarray, y: Sequence[int], grid: Sequence[float] | None = None
) -> float:
    """The weight on ``p_other`` (grid 0, 0.05, ..., 1) with the best accuracy on ``y``
    (column indices), ties broken by log loss."""
    weights = [i / 20 for i in range(21)] if grid is None else list(grid)
    gold = np.asarray(y)
    best: tuple[float, float, float] | None = None
    for w in weights:
        probs = log_linear_mix(p_own, p_other, float(w))
        accuracy = float((probs.argmax(axis=1) == gold).mean())
        loss = float(-np.log(probs[np.arange(len(gold)), gold] + 1e-12).mean())
        key = (accuracy, -loss, float(w))
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    return best[2]
