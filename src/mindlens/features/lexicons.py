"""Word lists behind the heuristic signals, written for MindLens (not copied from a published list).

Kept as plain data so they can be reviewed and extended without touching the
matching code. Single words are matched per token (case-insensitive, with a few
inflection endings stripped); entries with a space or hyphen are matched as
phrases. Clickbait patterns are regular expressions, matched case-insensitively.
"""

from __future__ import annotations

# Emotionally loaded words: strong connotation that pushes a reaction rather than
# describing. Grouped loosely by the feeling they aim at.
LOADED_WORDS: frozenset[str] = frozenset({
    # outrage / disgust
    "outrage", "outrageous", "disgrace", "disgraceful", "disgusting", "despicable", "shameful",
    "shameless", "vile", "sickening", "appalling", "atrocious", "abhorrent", "repugnant",
    "revolting", "scandal", "scandalous", "obscene", "heinous", "monstrous", "grotesque",
    "depraved", "degenerate", "sleazy", "filthy",
    # violence / brutality
    "barbaric", "brutal", "savage", "bloodthirsty", "butcher", "slaughter", "massacre",
    "carnage", "bloodbath", "onslaught", "rampage", "ravage", "annihilate", "obliterate",
    "decimate", "destroy", "crush", "assault", "siege", "crackdown", "purge", "genocide",
    "terror", "terrorize", "atrocity", "thug", "mob",
    # threat / fear
    "menace", "threat", "invasion", "invade", "infest", "flood", "swarm", "plague", "scourge",
    "catastrophe", "catastrophic", "disaster", "disastrous", "apocalypse", "apocalyptic",
    "doom", "nightmare", "chaos", "crisis", "collapse", "meltdown", "peril", "dire",
    "existential",
    # contempt / labels
    "traitor", "treason", "treacherous", "puppet", "stooge", "crook", "criminal", "corrupt",
    "corruption", "liar", "lie", "fraud", "hoax", "sham", "con", "scam", "rigged", "elite",
    "elitist", "radical", "extremist", "fanatic", "zealot", "lunatic", "idiot", "moron",
    "clown", "pathetic", "incompetent", "spineless", "cowardly", "coward", "parasite",
    "vermin", "regime", "propaganda", "brainwash", "indoctrinate", "tyranny", "tyrant",
    "dictator", "fascist", "communist", "globalist", "leftist", "snowflake", "so-called",
    "cabal", "conspiracy", "sinister", "evil", "wicked", "demonic",
    # victimhood / pity
    "innocent", "helpless", "defenseless", "victim", "suffer", "agony", "heartbreaking",
    "tragic", "tragedy", "betray", "betrayal", "abandon", "exploit", "oppress", "oppression",
    "persecute", "persecution", "enslave", "slavery", "cruel",
    # glorifying / virtue
    "heroic", "hero", "glorious", "noble", "sacred", "righteous", "patriot", "patriotic",
    "freedom", "liberty", "valiant", "courageous", "triumph", "martyr",
    # urgency / intensity
    "unacceptable", "intolerable", "reckless", "ruthless", "relentless", "shocking",
    "alarming", "horrific", "horrifying", "terrifying", "devastating", "unthinkable",
    "insane", "madness", "hysteria", "hysterical", "witch-hunt",
})

# Hyperbole typical of clickbait and exaggeration: intensity without information.
HYPERBOLIC_WORDS: frozenset[str] = frozenset({
    "amazing", "astonishing", "astounding", "awesome", "breathtaking", "brilliant",
    "colossal", "crazy", "dazzling", "epic", "extraordinary", "fabulous", "fantastic",
    "genius", "gigantic", "groundbreaking", "heartwarming", "historic", "huge", "hilarious",
    "immense", "incredible", "incredibly", "insane", "jaw-dropping", "legendary",
    "life-changing", "magical", "massive", "mind-blowing", "miraculous", "miracle",
    "monumental", "outstanding", "perfect", "phenomenal", "remarkable", "revolutionary",
    "sensational", "shocking", "spectacular", "staggering", "stunning", "stupendous",
    "superb", "terrific", "tremendous", "ultimate", "unbelievable", "unbelievably",
    "unforgettable", "unimaginable", "unprecedented", "unreal", "wonderful", "wow",
    "whopping", "explosive", "bombshell", "earth-shattering", "game-changer",
    "game-changing", "hysterical", "horrifying", "terrifying", "nightmarish", "gorgeous",
    "adorable", "insanely", "literally", "totally", "absolutely", "epically", "mindblowing",
    "outrageous", "brutal", "devastating", "disastrous", "catastrophic", "ridiculous",
    "unthinkable", "astronomical", "enormous", "stellar",
})

# Clickbait phrasings (regular expressions, case-insensitive, matched on the raw text).
CLICKBAIT_PATTERNS: tuple[str, ...] = (
    r"\byou won['’]?t believe\b",
    r"\byou will not believe\b",
    r"\bwon['’]?t believe your eyes\b",
    r"\bwhat happen(?:ed|s) next\b",
    r"\bwhat (?:she|he|they|it) (?:did|said) next\b",
    r"\bthis is (?:why|what|how)\b",
    r"\bhere['’]?s (?:why|what|how)\b",
    r"\bhere is (?:why|what|how)\b",
    r"\bthe real reason\b",
    r"\bblow your mind\b",
    r"\bwill make you\b",
    r"\bwill leave you (?:speechless|in tears|shaking|stunned)\b",
    r"\byou need to (?:know|see|read|watch)\b",
    r"\byou have to see\b",
    r"\byou['’]?ll never guess\b",
    r"\bcan you guess\b",
    r"\bguess what\b",
    r"\bwait (?:un)?til you see\b",
    r"\bthe truth about\b",
    r"\bdon['’]?t want you to (?:know|see)\b",
    r"\bdoctors hate\b",
    r"\bone (?:weird|simple|strange) trick\b",
    r"\bthis (?:one )?(?:simple|weird|little) (?:trick|hack)\b",
    r"\beverything you need to know\b",
    r"\bthings you (?:didn['’]?t|never) know\b",
    r"\bbefore it['’]?s (?:deleted|too late|gone)\b",
    r"\bgo(?:es|ing)? viral\b",
    r"\bbreak(?:s|ing)? the internet\b",
    r"\binternet is (?:losing its mind|going crazy|freaking out)\b",
    r"\byou['’]?(?:ve| have) been doing it wrong\b",
    r"\byou['’]?re doing it wrong\b",
    r"\bonly \d+\s?% of (?:people|you|us)\b",
    r"\bnumber \d+ will\b",
    r"\btry not to (?:laugh|cry|smile)\b",
    r"\bwill (?:change|transform) your life\b",
    r"\brestore your faith in humanity\b",
    r"\bwatch what happens\b",
    r"\bsee what happens\b",
    r"\bit['’]?s not what you think\b",
    r"\bwhat (?:\w+ ){1,3}looks like now\b",
    r"\bthe internet can['’]?t stop\b",
    r"\bcan['’]?t stop (?:talking|laughing|watching)\b",
    r"\bwe (?:can['’]?t|cannot) even\b",
    r"\bfind out (?:why|what|how)\b",
    r"\bclick here\b",
    r"\bdon['’]?t miss\b",
    r"\bthe (?:best|worst) thing you['’]?ll\b",
    r"\bis (?:all|everything) you need\b",
    r"\byou (?:probably|never) (?:knew|know|noticed)\b",
    (r"\b\d+ (?:things|reasons|ways|facts|signs|times|photos|pictures|tips|tricks|secrets|"
     r"people|celebrities|foods|mistakes|questions|moments|habits|rules)\b"),
)

# Absolutes: all-or-nothing framing used in exaggeration and false dilemmas.
ABSOLUTES: frozenset[str] = frozenset({
    "always", "never", "everyone", "everybody", "everything", "everywhere", "nobody",
    "nothing", "nowhere", "none", "all", "every", "completely", "totally", "absolutely",
    "entirely", "utterly", "undeniable", "undeniably", "unquestionably", "indisputable",
    "indisputably", "certainly", "definitely", "forever", "whatsoever", "guaranteed",
    "no one", "without exception", "each and every", "without a doubt", "beyond doubt",
    "beyond any doubt", "once and for all", "100 percent", "one hundred percent",
    "not a single", "all the time",
})

# -est words that are not superlatives, or superlatives too idiomatic to signal
# exaggeration ("best practice", "at best", "latest news").
NOT_SUPERLATIVES: frozenset[str] = frozenset({
    "best", "test", "rest", "nest", "west", "zest", "vest", "pest", "jest", "lest", "fest",
    "crest", "chest", "guest", "quest", "request", "protest", "contest", "arrest", "forest",
    "honest", "dishonest", "modest", "immodest", "harvest", "invest", "divest", "digest",
    "ingest", "suggest", "manifest", "conquest", "behest", "wrest", "attest", "detest",
    "infest", "inquest", "unrest", "priest", "earnest", "interest", "midwest", "northwest",
    "southwest", "everest", "bequest", "tempest", "latest", "retest", "pretest", "blest",
    "budapest", "bucharest", "reinvest", "molest", "incest", "congest", "celest",
})
# Superlatives without the -est ending.
IRREGULAR_SUPERLATIVES: frozenset[str] = frozenset({"worst", "utmost", "uttermost", "foremost"})

# Acronyms written in capitals by convention: not shouting.
ACRONYMS: frozenset[str] = frozenset({
    "US", "USA", "UK", "EU", "UN", "NATO", "FBI", "CIA", "NSA", "NASA", "COVID", "WHO",
    "CDC", "NHS", "BBC", "CNN", "NBC", "CBS", "ABC", "NPR", "AP", "AFP", "GOP", "DNC", "RNC",
    "TV", "AI", "CEO", "CFO", "GDP", "IMF", "WTO", "OPEC", "ISIS", "ISIL", "IRA", "DNA",
    "HIV", "AIDS", "USSR", "DC", "NYC", "LA", "PM", "AM", "BC", "AD", "OK", "ID", "IT",
    "II", "III", "IV", "VI", "VII", "VIII", "IX", "XI", "XX", "MP", "MPS", "UAE",
    "NGO", "LGBT", "LGBTQ", "SARS", "UNESCO", "UNICEF", "ICE", "DHS", "DOJ", "EPA", "IRS",
    "NYPD", "LAPD", "KGB", "FSB", "GPS", "PR", "HQ", "IQ", "PC", "USD", "EUR", "GBP", "RT",
    "CO2", "MSNBC", "NYT", "WSJ",
})

SECOND_PERSON: frozenset[str] = frozenset({
    "you", "your", "yours", "yourself", "yourselves", "you're", "you've", "you'll", "you'd",
    "y'all", "ya",
})

# Number words that open list-style headlines ("Seven reasons ..."); "one" is left out
# because "One man was ..." is ordinary news prose.
NUMBER_WORDS: frozenset[str] = frozenset({
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "hundred", "hundreds", "thousands",
    "dozens",
})

# --- Passive voice ---------------------------------------------------------------

BE_FORMS: frozenset[str] = frozenset({
    "am", "is", "are", "was", "were", "be", "been", "being",
    "isn't", "aren't", "wasn't", "weren't", "ain't",
    # "'s" is left out: it is just as often possessive or "has" ("he's given up").
    "you're", "we're", "they're", "i'm",
})
GET_FORMS: frozenset[str] = frozenset({"get", "got", "gets", "gotten", "getting"})
# Words allowed between the auxiliary and the participle besides -ly adverbs.
PASSIVE_ADVERBS: frozenset[str] = frozenset({
    "not", "also", "already", "still", "just", "never", "often", "always", "ever", "even",
    "then", "now", "soon", "once", "very", "so", "too", "quite", "rather", "all", "both",
    "later", "being", "been", "be",
})
IRREGULAR_PARTICIPLES: frozenset[str] = frozenset({
    "given", "forgiven", "taken", "overtaken", "undertaken", "mistaken", "written",
    "rewritten", "seen", "foreseen", "overseen", "known", "made", "remade", "told", "retold",
    "found", "held", "upheld", "withheld", "kept", "left", "shown", "thought", "built",
    "rebuilt", "brought", "bought", "caught", "taught", "fought", "sought", "sent", "spent",
    "lent", "won", "done", "undone", "born", "borne", "beaten", "chosen", "driven", "eaten",
    "forgotten", "hidden", "paid", "said", "sold", "stolen", "struck", "stricken", "sworn",
    "thrown", "overthrown", "worn", "torn", "drawn", "withdrawn", "grown", "blown", "flown",
    "spoken", "broken", "frozen", "woken", "proven", "shaken", "ridden", "bitten",
    "forbidden", "slain", "hung", "stung", "stuck", "dug", "spun", "sunk", "sung", "begun",
    "shot", "lost", "led", "misled", "fed", "bred", "met", "heard", "overheard", "meant",
    "dealt", "felt", "bound", "understood", "misunderstood", "laid", "hurt", "hit", "cut",
    "put", "set", "shut", "spread", "cast", "forecast", "broadcast", "read", "lit", "swept",
    "sewn",
})
# Common words ending in -ed that are not past participles after "be"/"get".
NOT_PARTICIPLES: frozenset[str] = frozenset({
    "bed", "red", "shed", "need", "feed", "seed", "speed", "breed", "greed", "creed", "deed",
    "weed", "reed", "steed", "tweed", "heed", "bleed", "shred", "sled", "sped", "fled",
    "hundred", "sacred", "naked", "wicked", "rugged", "ragged", "jagged", "crooked",
    "wretched", "kindred", "hatred", "indeed", "embed", "proceed", "succeed", "exceed",
    "unprecedented", "unexpected", "unfounded", "unwarranted", "unlimited", "unrelated",
    "unbiased", "unarmed", "unemployed", "unmarried", "unqualified", "unprepared",
    "undecided", "talented", "gifted", "skilled", "sophisticated", "complicated",
    "advanced", "experienced", "ted", "fred", "ned", "jed", "ahmed", "mohammed", "muhammed",
})
# Participial adjectives of state or feeling: "He is interested in music" describes a
# state, not an action done to him, so it counts as passive only with a "by" agent.
STATIVE_PARTICIPLES: frozenset[str] = frozenset({
    "interested", "tired", "excited", "bored", "worried", "concerned", "married", "pleased",
    "satisfied", "surprised", "scared", "frightened", "disappointed", "confused", "amazed",
    "ashamed", "embarrassed", "annoyed", "delighted", "exhausted", "determined", "supposed",
    "convinced", "involved", "engaged", "divorced", "retired", "relieved", "thrilled",
    "obsessed", "committed", "dedicated", "located", "based", "related", "qualified",
    "prepared", "entitled", "opposed",
})
