"""Features computed from text alone: explainable heuristic signals (see ``heuristics``)."""

from mindlens.features.heuristics import (
    SIGNAL_NAMES,
    TECHNIQUE_SIGNALS,
    Signal,
    compute_signals,
    describe_signals,
    evidence_for,
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
