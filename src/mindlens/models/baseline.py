"""TF-IDF + one-vs-rest logistic regression over sentences.

Persisted as plain JSON (vocabulary, idf, weights), never pickle, so the
serving path can load registry content without executing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from mindlens.features.signals import SIGNAL_NAMES, signal_vector
from mindlens.models.json_files import read_json, rounded, write_json

FORMAT = "mindlens.tfidf_ovr/1"


class TfidfOvrClassifier:
    """Multi-label sentence classifier: one logistic regression per label."""

    def __init__(
        self,
        labels: Sequence[str],
        *,
        max_features: int = 50000,
        ngram_max: int = 2,
        min_df: int = 2,
        C: float = 4.0,
        class_weight: str | None = "balanced",
        threshold: float = 0.5,
        seed: int = 13,
        use_signals: bool = False,
    ) -> None:
        self.labels = list(labels)
        self.params: dict[str, Any] = dict(
            max_features=max_features,
            ngram_max=ngram_max,
            min_df=min_df,
            C=C,
            class_weight=class_weight,
            threshold=threshold,
            seed=seed,
            use_signals=use_signals,
        )
        self.threshold = threshold
        self.use_signals = use_signals
        self.vectorizer: TfidfVectorizer | None = None
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.signal_mean_: np.ndarray | None = None
        self.signal_scale_: np.ndarray | None = None

    def _signals(self, texts: Sequence[str], fit: bool = False) -> np.ndarray:
        """Heuristic signals as standardised dense features (mean/scale learnt at fit)."""
        vectors = [signal_vector(t) for t in texts]
        values = np.array([[v[n] for n in SIGNAL_NAMES] for v in vectors], dtype=np.float64)
        if fit:
            self.signal_mean_ = values.mean(axis=0)
            self.signal_scale_ = np.where(values.std(axis=0) > 0, values.std(axis=0), 1.0)
        if self.signal_mean_ is None or self.signal_scale_ is None:
            raise RuntimeError("model uses signals but has no signal scaling: it is not fitted")
        return (values - self.signal_mean_) / self.signal_scale_

    def _features(self, texts: Sequence[str], fit: bool = False) -> Any:
        """The feature matrix (a scipy sparse matrix; scipy ships no type information)."""
        from scipy import sparse

        assert self.vectorizer is not None
        tfidf = self.vectorizer.fit_transform(texts) if fit else self.vectorizer.transform(texts)
        if not self.use_signals:
            return tfidf
        return sparse.hstack([tfidf, sparse.csr_matrix(self._signals(texts, fit))]).tocsr()

    def _new_vectorizer(self, **extra: Any) -> TfidfVectorizer:
        return TfidfVectorizer(
            ngram_range=(1, self.params["ngram_max"]),
            sublinear_tf=True,
            lowercase=True,
            strip_accents="unicode",
            dtype=np.float64,
            **extra,
        )

    def fit(
        self, texts: Sequence[str], y: Sequence[Sequence[str]], known: np.ndarray | None = None
    ) -> TfidfOvrClassifier:
        """Fit one classifier per label. ``known[i, j]`` says whether row i is labelled for
        label j at all (sources annotate different label sets); unknown rows are left out of
        that label's training set instead of counting as negatives."""
        min_df = self.params["min_df"] if len(texts) >= 4 * self.params["min_df"] else 1
        self.vectorizer = self._new_vectorizer(max_features=self.params["max_features"], min_df=min_df)
        features = self._features(texts, fit=True)
        targets = self.binarize(y)
        if known is None:
            known = np.ones_like(targets, dtype=bool)
        if known.shape != targets.shape:
            raise ValueError(f"known mask shape {known.shape} != targets {targets.shape}")
        n_features = features.shape[1]
        self.coef_ = np.zeros((len(self.labels), n_features))
        self.intercept_ = np.zeros(len(self.labels))
        for j in range(len(self.labels)):
            rows = np.flatnonzero(known[:, j])
            column = targets[rows, j]
            if len(column) == 0 or column.min() == column.max():
                # A label never (or always) seen: a constant, very confident answer.
                self.intercept_[j] = 10.0 if len(column) and column[0] else -10.0
                continue
            model = LogisticRegression(
                C=self.params["C"],
                class_weight=self.params["class_weight"],
                max_iter=2000,
                random_state=self.params["seed"],
            )
            model.fit(features[rows], column)
            self.coef_[j] = model.coef_[0]
            self.intercept_[j] = model.intercept_[0]
        return self

    def binarize(self, y: Sequence[Sequence[str]]) -> np.ndarray:
        index = {label: j for j, label in enumerate(self.labels)}
        out = np.zeros((len(y), len(self.labels)), dtype=int)
        for i, row in enumerate(y):
            for label in row:
                out[i, index[label]] = 1
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None or self.coef_ is None:
            raise RuntimeError("model is not fitted")
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        scores = self._features(texts) @ self.coef_.T + self.intercept_
        return 1.0 / (1.0 + np.exp(-np.asarray(scores)))

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        probs = self.predict_proba(texts)
        return [[self.labels[j] for j in np.flatnonzero(row >= self.threshold)] for row in probs]

    # --- persistence -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        if self.vectorizer is None or self.coef_ is None or self.intercept_ is None:
            raise RuntimeError("model is not fitted")
        vocabulary = sorted(self.vectorizer.vocabulary_.items(), key=lambda kv: kv[1])
        return {
            "format": FORMAT,
            "labels": self.labels,
            "params": self.params,
            "vocabulary": [term for term, _ in vocabulary],
            "idf": self.vectorizer.idf_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_.tolist(),
            "signal_mean": None if self.signal_mean_ is None else self.signal_mean_.tolist(),
            "signal_scale": None if self.signal_scale_ is None else self.signal_scale_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TfidfOvrClassifier:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: format={data.get('format')!r}")
        model = cls(data["labels"], **data["params"])
        vocabulary = {term: i for i, term in enumerate(data["vocabulary"])}
        model.vectorizer = model._new_vectorizer(vocabulary=vocabulary)
        model.vectorizer.vocabulary_ = vocabulary
        model.vectorizer.idf_ = np.asarray(data["idf"], dtype=np.float64)
        model.coef_ = np.asarray(data["coef"], dtype=np.float64)
        model.intercept_ = np.asarray(data["intercept"], dtype=np.float64)
        if data.get("signal_mean") is not None:
            model.signal_mean_ = np.asarray(data["signal_mean"], dtype=np.float64)
            model.signal_scale_ = np.asarray(data["signal_scale"], dtype=np.float64)
        n_signals = 0 if model.signal_mean_ is None else len(model.signal_mean_)
        if model.use_signals != bool(n_signals):
            raise ValueError("model says use_signals but carries no signal scaling (or the reverse)")
        if model.coef_.shape != (len(model.labels), len(vocabulary) + n_signals):
            raise ValueError("model weights do not match its labels and vocabulary")
        return model

    def save(self, path: Path, *, digits: int | None = None) -> None:
        """JSON, gzip-compressed when the name ends in ``.gz``; ``digits`` rounds the
        weights (a release bundle trades invisible precision for size)."""
        data = self.to_dict()
        if digits is not None:
            for key in ("idf", "intercept"):
                data[key] = [round(v, digits) for v in data[key]]
            data["coef"] = rounded(data["coef"], digits)
        write_json(path, data)

    @classmethod
    def load(cls, path: Path) -> TfidfOvrClassifier:
        return cls.from_dict(read_json(path))
