"""Features computed from text alone: explainable heuristic signals.

``signals`` lists them and computes them all (one module per group: ``sentiment``,
``empath_categories``, ``lexical``, ``style``, ``readability``); ``evidence`` maps
techniques to the signals that support them.
"""

from mindlens.features.evidence import TECHNIQUE_SIGNALS, evidence_for
from mindlens.features.signals import (
    SIGNAL_NAMES,
    Signal,
    compute_signals,
    describe_signals,
    signal_vector,
    warm_up,
)

__all__ = [
    "SIGNAL_NAMES",
    "TECHNIQUE_SIGNALS",
    "Signal",
    "compute_signals",
    "describe_signals",
    "evidence_for",
    "signal_vector",
    "warm_up",
]
