"""The model card of a release, written from its ``release.json`` (never by hand), so the
numbers in it are the ones the bundle reached."""

from __future__ import annotations

from typing import Any

from mindlens import taxonomy

MAIN = [
    ("val_flc_f1", "FLC F1 (fragments with their technique, partial overlap)"),
    ("val_si_f1", "SI F1 (propaganda fragments, partial overlap)"),
    ("val_tc_micro_f1", "TC micro-F1 (technique of a given fragment)"),
    ("val_micro_f1", "sentence techniques, micro-F1"),
    ("val_macro_f1", "sentence techniques, macro-F1"),
    ("val_slc_f1", "SLC F1 (sentence uses any technique)"),
    ("val_semeval2021_micro_f1", "SemEval-2021 task 1 (memes), micro-F1"),
    ("val_logic_micro_f1", "LOGIC fallacies, micro-F1"),
    ("val_clickbait_accuracy", "clickbait headlines, accuracy"),
    ("val_ece", "expected calibration error of sentence confidences (lower is better)"),
    ("val_latency_p95_ms", "p95 latency of a full analysis per article, ms (2-core CPU)"),
]


HEAD_TEXT = {
    "token": "a token head that marks the fragments using each of PTC's 14 techniques",
    "sentence": "a sentence head that scores sentences",
    "tc": "a technique-classification head that names the technique of a fragment in its context",
    "clickbait": "a clickbait head for the title",
}


def _what(release: dict[str, Any]) -> str:
    """The bundle's parts, from the heads the release says its encoder was trained with."""
    heads = release.get("heads") or ["token", "sentence"]
    parts = [HEAD_TEXT[h] for h in heads if h in HEAD_TEXT]
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    tfidf = "whole-text fallacies (memes, LOGIC)" + (
        "" if "clickbait" in heads else " and headline clickbait"
    )
    training = release.get("training") or {}
    trained = ""
    if training.get("command"):
        trained = (
            f" Trained with `{training['command']}`"
            + (
                f" ({training['hardware']}, {training['wall_seconds'] / 60:.1f} min including "
                f"validation each epoch; best epoch {int(training['best_epoch']) if training.get('best_epoch') else '?'})"
                if training.get("wall_seconds")
                else ""
            )
            + "."
        )
    if "tc_model.json.gz" in release.get("files", {}):
        trained += (
            " Each fragment's technique comes from a TC model that reads the whole article (does"
            " the phrase recur, what surrounds it, the heuristic signals), not from the TC head alone."
        )
    return (
        f"one fine-tuned MiniLM-L6 encoder ({release.get('backbone')}) shared by "
        f"{listed}, exported to ONNX and quantized to int8 (one forward pass serves every head); "
        f"plus a TF-IDF model for {tfidf}, and heuristic signals (sentiment, emotion lexicons, "
        f"loaded words, superlatives, passive voice) shown as evidence.{trained}"
    )


def _hard_negatives(metrics: dict[str, float]) -> str:
    rate = metrics.get("curated_test_hard_negative_fp_rate")
    if rate is None:
        return ""
    fragments = metrics.get("curated_test_hard_negative_fragment_rate")
    also = f", and {fragments:.0%} get a fragment" if fragments is not None else ""
    return (
        f"- **Strong but fair language is flagged**: on the curated hard negatives (emotive,\n"
        f"  opinionated or quoted text that uses no technique) {rate:.0%} get a technique on\n"
        f"  some sentence{also}. Raise the confidence threshold where false alarms cost more\n"
        f"  than misses.\n"
    )


def _in_sample_note(release: dict[str, Any]) -> str:
    if not (release.get("protocol") or {}).get("decoding"):
        return ""
    return (
        "\nThis release's fragment decoding was chosen on these articles, so its SI and FLC here\n"
        "are optimistic; the grouped figures under the protocol below are the ones to expect.\n"
    )


def _derivation(release: dict[str, Any]) -> str:
    """How a release derived from an earlier one was made (its base and the steps)."""
    training = release.get("training") or {}
    if not training.get("derived_from"):
        return ""
    steps = "\n".join(f"{n}. `{step}`" for n, step in enumerate(training.get("steps") or [], 1))
    return (
        f"\n## How it was made\n\nThe network of release {training['derived_from']} (trained as above; on a "
        f"machine without a GPU the same command runs with `--device cpu` and without `--bf16`, in hours), "
        f"then these steps, all on CPU in minutes:\n\n{steps}\n"
    )


def _protocol(release: dict[str, Any]) -> str:
    """The protocol's figures for the decoding: grouped CV over the validation articles'
    stories, the release's own decoding against the base's."""
    decoding = (release.get("protocol") or {}).get("decoding")
    if not decoding:
        return ""
    rows = []
    for which, name in (("own", "base decoding"), ("tuned", "this release's decoding")):
        cells = " | ".join(
            f"{decoding[which][m][0]:.3f} ± {decoding[which][m][1]:.3f}" for m in ("si_f1", "flc_f1")
        )
        rows.append(f"| {name} | {cells} |")
    table = "\n".join(rows)
    measured_on = (release.get("protocol") or {}).get("measured_on")
    where = (
        f"\nMeasured on release {measured_on}, whose decoding this release keeps unchanged."
        if measured_on
        else ""
    )
    return (
        "\n## Under the protocol (grouped by story)\n\n"
        "Fragments scored by grouped 5-fold cross-validation over the validation articles' story\n"
        f"groups (docs/VALIDATION.md): each fold's decoding chosen on the other folds, mean ± sd.{where}\n\n"
        f"| decoding | SI F1 | FLC F1 |\n|---|---|---|\n{table}\n"
    )


def render(release: dict[str, Any], command: str, source: str = "models/v2/release.json") -> str:
    metrics = release["metrics"]
    per_technique = release.get("per_technique_f1", {})
    weak = sorted((t for t, f in per_technique.items() if f < 0.1), key=lambda t: per_technique[t])
    rows = "\n".join(
        f"| {label} | {metrics[key]:.0f} |" if key.endswith("_ms") else f"| {label} | {metrics[key]:.3f} |"
        for key, label in MAIN
        if key in metrics
    )
    technique_rows = "\n".join(
        f"| {taxonomy.technique(t).name} | {taxonomy.trait(taxonomy.technique(t).trait).name} | {f:.3f} |"
        for t, f in sorted(per_technique.items(), key=lambda kv: -kv[1])
    )
    weak_names = ", ".join(taxonomy.technique(t).name for t in weak) or "none"
    return f"""# Model card: MindLens analyzer {release["version"]}

<!-- generated by `{command}` from {source}; do not edit by hand -->

**What it is.** A complete analyzer: {_what(release)}
Changelog: {release["changelog"]}. Created {release["created"]}; taxonomy
`{release["taxonomy_version"]}`; data `{release.get("data_content_hash", "")[:12]}`.

**Intended use.** Helping readers, fact-checkers and researchers notice where an English
news text, post or headline uses a persuasion technique, with the fragment, a confidence
and checkable evidence. It flags techniques, not falsehoods, and not intent: a flagged
fragment is a reason to read closely, never a verdict on the author or the claim.

**Not for.** Automated moderation, ranking or removal of content or people; non-English
text; judging whether a statement is true.

**Data.** PTC (SemEval-2020 Task 11) news articles with technique spans (train split:
80% of the training articles by a seeded split; validation: the other 20%), SemEval-2021
Task 6 meme texts, LOGIC fallacy examples and Stop Clickbait headlines. All public corpora
are English and 2016-2019; see `mindlens data stats`.

## Metrics (validation split)
{_in_sample_note(release)}
| metric | value |
|---|---|
{rows}

## Per technique (sentence level, validation F1)

| technique | trait | F1 |
|---|---|---|
{technique_rows}
{_protocol(release)}{_derivation(release)}
## Known failure modes and limits

- **Quoted propaganda inside neutral reporting** is still found (PTC's annotators label
  it too), but every fragment says whether it sits inside a quotation and whose words
  they are (`quoted`, `speaker`), and the served document score discounts quoted words
  (`serving.quoted_weight`).
- **Opinion pieces** use strong but legitimate language; loaded language and name
  calling are over-predicted there, and the model cannot tell a columnist's stance
  from manipulation.
- **Rare techniques are barely learnt** (F1 below 0.1: {weak_names}): few
  training examples; treat their absence as "not detected", not "not present".
{_hard_negatives(metrics)}- **Spans are approximate**: fragment boundaries follow tokens and the
  partial-overlap metrics reward rough boundaries.
- **Sarcasm, irony and short texts** (headlines, posts) are out of the news-article
  distribution the span model was trained on.
- **Confidences** are reasonably calibrated overall (ECE above) but per technique they
  are not; the default threshold is tuned on validation for micro-F1.
- **Time and place**: trained on 2017-2019 English news; names, topics and slogans
  change.
"""
