"""Request and response bodies of the API; the examples show up in the OpenAPI docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mindlens.preprocessing.hygiene import RULE, validate_text

EXAMPLE_TEXT = (
    "The so-called experts got it wrong again. Every true patriot will stand "
    "with us. Make our streets safe again!"
)


TITLE_MAX_CHARS = 1000
URL_MAX_CHARS = 2048  # url_source.MAX_URL_CHARS checks it too (the demo's box has no schema)
EXAMPLE_URL = "https://example.org/news/2024/05/some-article.html"


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": EXAMPLE_TEXT, "min_confidence": 0.5}, {"url": EXAMPLE_URL}]},
    )

    text: str | None = Field(
        None,
        strict=True,
        description="The text to analyze (plain text): not blank, at most serving.max_text_chars "
        f"characters (413 above), {RULE}. Send exactly one of text and url.",
    )
    url: str | None = Field(
        None,
        strict=True,
        json_schema_extra={"maxLength": URL_MAX_CHARS},
        description="A web page (http or https) to analyze instead of a text: the server fetches "
        "it (url_fetch settings: time and size limits, public addresses only), extracts the "
        "article's title and main text and analyzes them; the answer's `source` holds that text. "
        "An unusable page is a 4xx saying why (422; 413 too large; 415 not HTML).",
    )
    title: str | None = Field(
        None,
        strict=True,
        # checked in _clean_title: pydantic's own max_length fails on a lone surrogate with a
        # message that hides the problem
        json_schema_extra={"maxLength": TITLE_MAX_CHARS},
        description=f"Headline; default: the text's first line. Scored for clickbait. {RULE.capitalize()}.",
    )
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        strict=True,  # a number: true/false or "0.5" are 422, not 1.0/0.0/0.5
        description="Report techniques at or above this confidence (0 to 1); default from the model.",
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        # A custom error type keeps the message free of pydantic's "Value error," prefix.
        if value is None:
            return None
        if not value.strip():
            raise PydanticCustomError(
                "empty_text", "text is empty or whitespace-only; send some text to analyze"
            )
        return validate_text(value, "text")

    @field_validator("title")
    @classmethod
    def _clean_title(cls, value: str | None) -> str | None:
        if value is None:
            return None
        validate_text(value, "title")
        if len(value) > TITLE_MAX_CHARS:
            raise PydanticCustomError(
                "string_too_long", "title is too long: at most {limit} characters", {"limit": TITLE_MAX_CHARS}
            )
        return value

    @field_validator("url")
    @classmethod
    def _clean_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        validate_text(value, "url")
        if not value.strip():
            raise PydanticCustomError("empty_url", "url is empty; send the address of a web page")
        if len(value) > URL_MAX_CHARS:
            raise PydanticCustomError(
                "string_too_long", "url is too long: at most {limit} characters", {"limit": URL_MAX_CHARS}
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _text_or_url(cls, data: Any) -> Any:
        # before the fields: {"message": ...} is told what to send, not only what was extra
        if isinstance(data, dict) and (data.get("text") is None) == (data.get("url") is None):
            raise PydanticCustomError(
                "text_or_url",
                "send exactly one of text (the text to analyze) and url (a web page to fetch and analyze)",
            )
        return data


class ModelRef(BaseModel):
    name: str = Field(..., examples=["mindlens-analyzer"])
    version: str = Field(..., examples=["3"])
    run_id: str | None = Field(None, examples=["4f9c2d0e8b7a4c1e9d3f5a6b7c8d9e0f"])


class TechniqueHit(BaseModel):
    technique: str = Field(..., examples=["slogans"])
    name: str = Field(..., examples=["Slogans"])
    trait: str = Field(..., examples=["slogans_and_repetition"])
    confidence: float = Field(..., ge=0.0, le=1.0, examples=[0.83])


class Sentence(BaseModel):
    index: int
    start: int = Field(
        ...,
        description="Character offset in the analysed text (the request text, or source.text; inclusive).",
    )
    end: int = Field(..., description="Character offset in the analysed text (exclusive).")
    text: str
    techniques: list[TechniqueHit]


class Fragment(BaseModel):
    start: int = Field(
        ...,
        description="Character offset in the analysed text (the request text, or source.text; inclusive).",
    )
    end: int = Field(..., description="Character offset in the analysed text (exclusive).")
    text: str = Field(..., description="The fragment: text[start:end].")
    technique: str = Field(..., examples=["loaded_language"])
    name: str = Field(..., examples=["Loaded language"])
    trait: str = Field(..., examples=["emotional_language"])
    confidence: float = Field(..., ge=0.0, le=1.0)
    tc_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description=(
            "Second opinion: the technique classifier's probability for this technique, reading the "
            "fragment in its sentence (null when the model has no TC head)."
        ),
    )
    quoted: bool = Field(
        False,
        description="The fragment lies inside a quotation: the words are someone's the text quotes.",
    )
    speaker: str | None = Field(
        None,
        description="Who is quoted, where the text names them next to the quote (null otherwise).",
        examples=["the senator"],
    )
    sentence: int = Field(..., description="Index of the sentence holding the fragment.")
    evidence: list[dict] = Field(
        default_factory=list,
        description=("Heuristic cues for this technique with trigger words inside the fragment."),
    )


class DocumentScores(BaseModel):
    score: float = Field(..., description="Highest technique score in the document.")
    techniques: dict[str, float] = Field(..., description="Per technique: max over sentences.")
    traits: dict[str, float] = Field(..., description="Per trait: max over its techniques.")


class TitleScore(BaseModel):
    text: str = Field(..., description="The headline that was scored.")
    clickbait: float | None = Field(
        None, ge=0.0, le=1.0, description="Clickbait confidence; null if the model has none."
    )


class Source(BaseModel):
    """Where an analysed text came from (only for a ``url`` request)."""

    url: str = Field(..., description="The URL as requested.", examples=[EXAMPLE_URL])
    final_url: str = Field(..., description="The page's URL after redirects.", examples=[EXAMPLE_URL])
    title: str | None = Field(None, description="The article's title, as extracted (null if none).")
    fetched_at: datetime = Field(..., description="When the page was fetched (UTC).")
    text: str = Field(
        ..., description="The article's main text as extracted: what was analysed; every offset indexes it."
    )


class AnalyzeResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": {"name": "mindlens-analyzer", "version": "3", "run_id": "4f9c2d0e"},
                    "sentences": [
                        {
                            "index": 0,
                            "start": 0,
                            "end": 28,
                            "text": "Make our streets safe again!",
                            "techniques": [
                                {
                                    "technique": "slogans",
                                    "name": "Slogans",
                                    "trait": "slogans_and_repetition",
                                    "confidence": 0.83,
                                }
                            ],
                        }
                    ],
                    "document": {
                        "score": 0.83,
                        "techniques": {"slogans": 0.83},
                        "traits": {"slogans_and_repetition": 0.83},
                    },
                    "title": {"text": "Make our streets safe again!", "clickbait": 0.12},
                    "min_confidence": 0.5,
                    "timings_ms": {"model": 3.1, "total": 3.4},
                }
            ]
        }
    )

    model: ModelRef
    sentences: list[Sentence]
    spans: list[Fragment] = Field(
        default_factory=list,
        description=("Fragments that use a technique (whole sentences for a sentence-level model)."),
    )
    document: DocumentScores
    title: TitleScore
    signals: dict[str, float] = Field(
        default_factory=dict,
        description=("Heuristic signals of the whole text (see mindlens.features.signals)."),
    )
    min_confidence: float
    timings_ms: dict[str, float]
    source: Source | None = Field(None, description="For a url request: the page the text came from.")


class HealthResponse(BaseModel):
    status: str = Field("ok", examples=["ok"])
    model: ModelRef | None = Field(None, description="The served model; null before a champion exists.")
    version: str | None = Field(None, description="Shortcut for model.version.", examples=["3"])


class ReadyResponse(BaseModel):
    status: str = Field(..., examples=["ready"], description="ready, or degraded (see problems).")
    version: str = Field(..., examples=["3"], description="The served model's registry version.")
    problems: list[str] = Field(
        default_factory=list,
        description="What is degraded while analyses go on (empty when ready).",
        examples=[["the prediction log cannot be written (OSError); analyses go on"]],
    )


class ReloadResponse(BaseModel):
    reloaded: bool = Field(..., description="True if a new champion version is now served.")
    version: str | None = Field(None, examples=["4"])
    error: str | None = Field(
        None, description="Why the last reload failed, if it did (no internals: the server log has them)."
    )


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer (a 500 says only ``internal server error``; the server log has
    the rest under the response's ``X-Request-ID``)."""

    detail: str = Field(..., examples=["text is too long: 25000 characters received, the limit is 20000"])


class ValidationErrorItem(BaseModel):
    type: str = Field(..., examples=["empty_text"])
    loc: list[str | int] = Field(..., examples=[["body", "text"]])
    msg: str = Field(..., examples=["text is empty or whitespace-only; send some text to analyze"])


class ValidationErrorResponse(BaseModel):
    """422: the request body does not match the schema; ``detail`` sums up every problem."""

    detail: str = Field(..., examples=["text: text is empty or whitespace-only; send some text to analyze"])
    errors: list[ValidationErrorItem] = Field(
        default_factory=list, description="One entry per problem of the body (pydantic's type, loc, msg)."
    )


class BatchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"texts": [EXAMPLE_TEXT, "The committee meets on Tuesday."], "min_confidence": 0.5}]
        },
    )

    texts: list[str] = Field(
        ...,
        min_length=1,
        description="Texts to analyze: 1 to serving.max_batch_texts of them (413 above), each "
        f"not blank, at most serving.max_text_chars characters (413 above), {RULE}.",
    )
    min_confidence: float | None = Field(None, ge=0.0, le=1.0, strict=True)

    @field_validator("texts")
    @classmethod
    def _none_blank(cls, value: list[str]) -> list[str]:
        blank = [i for i, text in enumerate(value) if not text.strip()]
        if blank:
            raise PydanticCustomError(
                "empty_text", "texts {blank} are empty or whitespace-only", {"blank": blank}
            )
        for i, text in enumerate(value):
            validate_text(text, f"texts.{i}")
        return value


class BatchResponse(BaseModel):
    results: list[AnalyzeResponse]


class TechniqueInfo(BaseModel):
    id: str = Field(..., examples=["loaded_language"])
    name: str = Field(..., examples=["Loaded language"])
    trait: str = Field(..., examples=["emotional_language"])
    trait_name: str = Field(..., examples=["Emotional language"])
    definition: str
    example: str
    color: str = Field(..., examples=["#e6194b"])


class VersionResponse(BaseModel):
    app: str = Field(..., examples=["0.1.0"])
    model: ModelRef | None = None
    semver: str | None = Field(
        None, examples=["1.0.0"], description="Semantic version of the served release."
    )
