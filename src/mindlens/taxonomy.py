"""The single source of truth for what MindLens detects.

Techniques are what a fragment does (loaded language, slogans, ...); traits
are the reader-facing groups they roll up to. Each dataset's own label names
map onto technique ids here and nowhere else; an unknown label raises.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Trait:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    trait: str
    definition: str
    example: str
    color: str


TRAITS: tuple[Trait, ...] = (
    Trait(
        "emotional_language",
        "Emotional language",
        "Words and framings chosen to stir feelings rather than inform.",
    ),
    Trait(
        "attacks_on_people",
        "Attacks on people",
        "Discrediting people or groups instead of engaging with their arguments.",
    ),
    Trait(
        "faulty_reasoning",
        "Faulty reasoning",
        "Arguments that look logical but skip, distort or dodge the reasoning.",
    ),
    Trait(
        "authority_and_crowd",
        "Appeals to authority and the crowd",
        "Asking you to believe because of who says it or how many agree.",
    ),
    Trait(
        "slogans_and_repetition",
        "Slogans and repetition",
        "Catchy phrases and repeated messages that replace argument.",
    ),
    Trait(
        "clickbait",
        "Clickbait",
        "Headlines that withhold or exaggerate to make you click rather than inform.",
    ),
)

TECHNIQUES: tuple[Technique, ...] = (
    Technique(
        "loaded_language",
        "Loaded language",
        "emotional_language",
        "Words or phrases with strong emotional connotations used to influence the reader.",
        "The regime's barbaric crackdown on peaceful citizens.",
        "#e6194b",
    ),
    Technique(
        "name_calling",
        "Name calling / labeling",
        "attacks_on_people",
        "Labelling a person or group with something the audience fears, hates or loves.",
        "The so-called experts, those globalist puppets, got it wrong again.",
        "#f58231",
    ),
    Technique(
        "exaggeration_minimisation",
        "Exaggeration / minimisation",
        "emotional_language",
        "Making something seem far bigger or far smaller than it really is.",
        "This is the greatest disaster in human history.",
        "#ffe119",
    ),
    Technique(
        "doubt",
        "Doubt",
        "attacks_on_people",
        "Questioning the credibility of someone or something without grounds.",
        "Can we really trust anything this minister tells us?",
        "#bfef45",
    ),
    Technique(
        "appeal_to_fear",
        "Appeal to fear / prejudice",
        "emotional_language",
        "Building support for an idea by instilling anxiety or panic about the alternative.",
        "If we do nothing, our children will grow up in a country ruled by criminals.",
        "#3cb44b",
    ),
    Technique(
        "flag_waving",
        "Flag-waving",
        "emotional_language",
        "Playing on strong national or group feeling to justify a position.",
        "Every true patriot will stand with us on this.",
        "#42d4f4",
    ),
    Technique(
        "causal_oversimplification",
        "Causal oversimplification",
        "faulty_reasoning",
        "Assuming a single cause for an issue that has many.",
        "Crime went up the year they took office, so they caused it.",
        "#4363d8",
    ),
    Technique(
        "slogans",
        "Slogans",
        "slogans_and_repetition",
        "A brief, striking phrase that may include labeling and stereotyping.",
        "Make our streets safe again!",
        "#911eb4",
    ),
    Technique(
        "appeal_to_authority",
        "Appeal to authority",
        "authority_and_crowd",
        "Claiming something is true because an authority says so, without other evidence.",
        "A famous actor says this diet works, so it must be true.",
        "#f032e6",
    ),
    Technique(
        "black_and_white_fallacy",
        "Black-and-white fallacy",
        "faulty_reasoning",
        "Presenting two alternatives as the only possibilities when more exist.",
        "You are either with us or against us.",
        "#a9a9a9",
    ),
    Technique(
        "thought_terminating_cliche",
        "Thought-terminating cliché",
        "faulty_reasoning",
        "A short phrase that discourages critical thought and ends the discussion.",
        "It is what it is.",
        "#469990",
    ),
    Technique(
        "whataboutism_strawman_red_herring",
        "Whataboutism / straw man / red herring",
        "faulty_reasoning",
        "Deflecting criticism, misrepresenting an opponent's view, or changing the subject.",
        "Why talk about our budget when the other party wasted far more?",
        "#9a6324",
    ),
    Technique(
        "bandwagon",
        "Bandwagon / reductio ad hitlerum",
        "authority_and_crowd",
        "Urging people to join because everyone else does, or rejecting an idea because "
        "a hated group holds it.",
        "Millions of people have already switched; don't be left behind.",
        "#800000",
    ),
    Technique(
        "repetition",
        "Repetition",
        "slogans_and_repetition",
        "Repeating the same message over and over so the audience accepts it.",
        "Jobs, jobs, jobs: that is what this plan brings.",
        "#000075",
    ),
    Technique(
        "appeal_to_emotion",
        "Appeal to emotion",
        "emotional_language",
        "Winning an argument by stirring pity, anger or pride instead of giving reasons.",
        "Think of the grieving mothers before you dare vote against this bill.",
        "#fabed4",
    ),
    Technique(
        "glittering_generalities",
        "Glittering generalities",
        "emotional_language",
        "Vague, virtuous words (freedom, justice, family) attached to an idea to win approval "
        "without evidence.",
        "Our plan stands for freedom, dignity and everything good about this nation.",
        "#ffd8b1",
    ),
    Technique(
        "smears",
        "Smears",
        "attacks_on_people",
        "An effort to damage someone's reputation with negative propaganda.",
        "Everyone knows the senator has always been in the pocket of shady donors.",
        "#fffac8",
    ),
    Technique(
        "ad_hominem",
        "Personal attack (ad hominem)",
        "attacks_on_people",
        "Attacking the person making an argument instead of the argument itself.",
        "Why listen to her views on taxes? She can't even manage her own household.",
        "#aaffc3",
    ),
    Technique(
        "faulty_generalization",
        "Faulty generalization",
        "faulty_reasoning",
        "Drawing a conclusion about all cases from one or a few.",
        "My neighbour's electric car broke down, so electric cars are unreliable.",
        "#dcbeff",
    ),
    Technique(
        "circular_reasoning",
        "Circular reasoning",
        "faulty_reasoning",
        "An argument whose conclusion is already assumed in its premise.",
        "The law is just because it is the law.",
        "#808000",
    ),
    Technique(
        "obfuscation",
        "Obfuscation / intentional vagueness",
        "faulty_reasoning",
        "Deliberately unclear or ambiguous wording that lets the audience read in what it "
        "wants, or shifts a word's meaning mid-argument.",
        "Mistakes were made, and certain measures may or may not be taken in due course.",
        "#e6beff",
    ),
    Technique(
        "flawed_logic",
        "Flawed logic",
        "faulty_reasoning",
        "An error in the logical structure of an argument not covered by a named fallacy.",
        "All cats have tails; my dog has a tail; so my dog is a cat.",
        "#c0c0c0",
    ),
    Technique(
        "clickbait",
        "Clickbait",
        "clickbait",
        "A headline that teases, withholds or exaggerates to make you click.",
        "You won't believe what this celebrity did next!",
        "#ff7f00",
    ),
)

# Each dataset's label names onto MindLens technique ids.
SOURCE_LABELS: dict[str, dict[str, str]] = {
    "ptc": {
        "Loaded_Language": "loaded_language",
        "Name_Calling,Labeling": "name_calling",
        "Exaggeration,Minimisation": "exaggeration_minimisation",
        "Doubt": "doubt",
        "Appeal_to_fear-prejudice": "appeal_to_fear",
        "Flag-Waving": "flag_waving",
        "Causal_Oversimplification": "causal_oversimplification",
        "Slogans": "slogans",
        "Appeal_to_Authority": "appeal_to_authority",
        "Black-and-White_Fallacy": "black_and_white_fallacy",
        "Thought-terminating_Cliches": "thought_terminating_cliche",
        "Whataboutism,Straw_Men,Red_Herring": "whataboutism_strawman_red_herring",
        "Bandwagon,Reductio_ad_hitlerum": "bandwagon",
        "Repetition": "repetition",
    },
    # SemEval-2021 Task 6 (memes, subtasks 1 and 2). PTC merges some of these; the
    # MindLens technique follows PTC so that one label means one thing across sources.
    "semeval2021": {
        "Appeal to authority": "appeal_to_authority",
        "Appeal to fear/prejudice": "appeal_to_fear",
        "Black-and-white Fallacy/Dictatorship": "black_and_white_fallacy",
        "Causal Oversimplification": "causal_oversimplification",
        "Doubt": "doubt",
        "Exaggeration/Minimisation": "exaggeration_minimisation",
        "Flag-waving": "flag_waving",
        "Glittering generalities (Virtue)": "glittering_generalities",
        "Loaded Language": "loaded_language",
        "Misrepresentation of Someone's Position (Straw Man)": "whataboutism_strawman_red_herring",
        "Name calling/Labeling": "name_calling",
        "Obfuscation, Intentional vagueness, Confusion": "obfuscation",
        "Presenting Irrelevant Data (Red Herring)": "whataboutism_strawman_red_herring",
        "Reductio ad hitlerum": "bandwagon",
        "Repetition": "repetition",
        "Slogans": "slogans",
        "Smears": "smears",
        "Thought-terminating cliché": "thought_terminating_cliche",
        "Whataboutism": "whataboutism_strawman_red_herring",
        "Bandwagon": "bandwagon",
    },
    # LOGIC (Jin et al. 2022), edu and climate sets.
    "logic": {
        "ad hominem": "ad_hominem",
        "ad populum": "bandwagon",
        "appeal to emotion": "appeal_to_emotion",
        "circular reasoning": "circular_reasoning",
        "equivocation": "obfuscation",
        "fallacy of credibility": "appeal_to_authority",
        "fallacy of extension": "whataboutism_strawman_red_herring",
        "fallacy of logic": "flawed_logic",
        "fallacy of relevance": "whataboutism_strawman_red_herring",
        "false causality": "causal_oversimplification",
        "false dilemma": "black_and_white_fallacy",
        "faulty generalization": "faulty_generalization",
        "intentional": "obfuscation",
    },
    # Stop Clickbait: one label for the positive class; the negative class has none.
    "clickbait": {"clickbait": "clickbait"},
}
# MindLens's own data (curated examples, Label Studio exports) uses technique ids directly.
SOURCE_LABELS["mindlens"] = {t.id: t.id for t in TECHNIQUES}

TECHNIQUE_IDS: tuple[str, ...] = tuple(t.id for t in TECHNIQUES)
_BY_ID = {t.id: t for t in TECHNIQUES}
_TRAIT_BY_ID = {t.id: t for t in TRAITS}


class UnknownLabelError(ValueError):
    """A dataset label or technique id that the taxonomy does not know."""


def technique(technique_id: str) -> Technique:
    try:
        return _BY_ID[technique_id]
    except KeyError:
        raise UnknownLabelError(
            f"unknown technique {technique_id!r}; known: {', '.join(TECHNIQUE_IDS)}"
        ) from None


def trait(trait_id: str) -> Trait:
    try:
        return _TRAIT_BY_ID[trait_id]
    except KeyError:
        raise UnknownLabelError(f"unknown trait {trait_id!r}") from None


def map_label(source: str, label: str) -> str:
    """Translate one dataset's label to a technique id, failing loudly on anything new."""
    try:
        mapping = SOURCE_LABELS[source]
    except KeyError:
        raise UnknownLabelError(f"no label mapping for source {source!r}") from None
    try:
        return mapping[label]
    except KeyError:
        raise UnknownLabelError(f"unknown {source} label {label!r}") from None


def techniques_of_trait(trait_id: str) -> list[str]:
    trait(trait_id)
    return [t.id for t in TECHNIQUES if t.trait == trait_id]


def _check() -> None:
    for t in TECHNIQUES:
        trait(t.trait)
    for mapping in SOURCE_LABELS.values():
        for target in mapping.values():
            technique(target)


_check()
