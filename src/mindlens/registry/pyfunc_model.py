"""MLflow "model from code" wrapper around an analyzer bundle.

Logged as code (not pickled) so ``mlflow.pyfunc.load_model`` works for
researchers; the API does not use it and reads the bundle's JSON directly.
Input: a DataFrame with a ``text`` column. Output: one row per text with the
document score and one column per technique.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext


class MindLensPyfunc(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        from mindlens.models.analyzer import Analyzer

        self.analyzer = Analyzer.load(context.artifacts["analyzer"])

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        rows = []
        for text in model_input["text"].astype(str):
            document = self.analyzer.analyze(text)["document"]
            rows.append({"score": document["score"], **document["techniques"]})
        return pd.DataFrame(rows)


mlflow.models.set_model(MindLensPyfunc())
