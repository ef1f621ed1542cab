"""Training: ``train(settings, manifest_path, family, params)`` fits any model family
(``mindlens.training.run``); the TF-IDF baseline lives in ``baseline``, the transformer
tagger in ``train_config`` (what a run is asked), ``examples``, ``losses``, ``loop`` and
``validation``; ``python -m mindlens.training`` trains on a machine without MLflow."""

from mindlens.training.run import Trained, train

__all__ = ["Trained", "train"]
