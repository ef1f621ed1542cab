"""Which heuristic signals support which technique, and the evidence shown for a prediction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mindlens.features.signals import SIGNAL_NAMES, Signal
from mindlens.taxonomy import technique

# Which signals lend support to which technique (only techniques with a heuristic cue).
TECHNIQUE_SIGNALS: dict[str, tuple[str, ...]] = {
    "loaded_language": (
        "loaded_words",
        "sentiment_neg",
        "empath_negative_emotion",
        "empath_anger",
        "empath_hate",
        "empath_disgust",
    ),
    "name_calling": ("loaded_words", "empath_ridicule", "empath_hate"),
    "exaggeration_minimisation": ("superlatives", "absolutes", "clickbait_hyperbolic"),
    "doubt": ("question_rate", "empath_deception"),
    "appeal_to_fear": (
        "empath_fear",
        "empath_violence",
        "empath_terrorism",
        "empath_crime",
        "empath_war",
        "empath_nervousness",
    ),
    "flag_waving": ("empath_pride", "empath_heroic", "empath_independence", "empath_power"),
    "causal_oversimplification": ("absolutes",),
    "slogans": ("exclamation_rate", "all_caps_rate"),
    "black_and_white_fallacy": ("absolutes",),
    "whataboutism_strawman_red_herring": ("question_rate",),
    "bandwagon": ("absolutes", "clickbait_second_person"),
    "appeal_to_emotion": (
        "sentiment_intensity",
        "empath_negative_emotion",
        "empath_positive_emotion",
        "empath_shame",
        "exclamation_rate",
    ),
    "glittering_generalities": ("sentiment_pos", "empath_positive_emotion", "empath_pride"),
    "smears": ("loaded_words", "empath_crime", "empath_deception", "empath_shame"),
    "ad_hominem": ("loaded_words", "empath_ridicule", "clickbait_second_person"),
    "faulty_generalization": ("absolutes",),
    "obfuscation": ("passive_ratio",),
    "clickbait": (
        "clickbait_phrases",
        "clickbait_hyperbolic",
        "clickbait_second_person",
        "clickbait_headline_punct",
        "clickbait_starts_with_number",
        "exclamation_rate",
    ),
}


def _check_technique_signals() -> None:
    for technique_id, names in TECHNIQUE_SIGNALS.items():
        technique(technique_id)  # raises UnknownLabelError for ids the taxonomy lacks
        unknown = set(names) - set(SIGNAL_NAMES)
        if unknown:
            raise ValueError(f"TECHNIQUE_SIGNALS[{technique_id!r}] names unknown signals {unknown}")


_check_technique_signals()


def evidence_for(technique_id: str, signals: Mapping[str, Signal]) -> list[dict[str, Any]]:
    """The signals that fired (value > 0) among those linked to ``technique_id``.

    Unknown technique ids raise ``UnknownLabelError``; known techniques without a
    heuristic cue return an empty list.
    """
    technique(technique_id)
    out: list[dict[str, Any]] = []
    for name in TECHNIQUE_SIGNALS.get(technique_id, ()):
        signal = signals.get(name)
        if signal is None or signal.value <= 0:
            continue
        out.append(
            {
                "signal": name,
                "value": signal.value,
                "description": signal.description,
                "evidence": [{"start": s, "end": e, "text": t} for s, e, t in signal.evidence],
            }
        )
    return out
