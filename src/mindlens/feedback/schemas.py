"""The feedback request body (``POST /feedback``), validated against the taxonomy and the text.

Shape and meaning are checked here (422: unknown technique, offsets outside the
text, a relabel without a new technique, empty feedback); size limits depend on
the settings and are checked by the caller (413).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from mindlens import taxonomy
from mindlens.preprocessing.hygiene import RULE, validate_text

if TYPE_CHECKING:
    from mindlens.feedback.store import FeedbackRecord

Action = Literal["confirm", "add", "remove", "relabel"]
Judgement = Literal["manipulative", "not_manipulative", "unsure"]
JUDGEMENTS: tuple[str, ...] = ("manipulative", "not_manipulative", "unsure")
ACTIONS: tuple[str, ...] = ("confirm", "add", "remove", "relabel")

EXAMPLE_TEXT = "The so-called experts got it wrong again. Make our streets safe again!"
EXAMPLE: JsonDict = {  # JSON, as json_schema_extra takes it
    "client_id": "6f1c7a52-3d4e-4f0a-9b7e-2c8d1e5f0a11",
    "request_id": "3fa85f6457174562b3fc2c963f66afa6",
    "text": EXAMPLE_TEXT,
    "corrections": [
        {"action": "confirm", "start": 42, "end": 70, "technique": "slogans"},
        {
            "action": "relabel",
            "start": 4,
            "end": 21,
            "technique": "loaded_language",
            "new_technique": "name_calling",
        },
        {"action": "add", "start": 22, "end": 40, "technique": "doubt"},
    ],
    "judgement": "manipulative",
    "comment": "The first sentence mocks the experts rather than using loaded words.",
}


def _no_bad_characters(value: str, field: str) -> str:
    """Lone surrogates and control characters (NUL included: PostgreSQL text cannot hold it):
    422, by the same rule as every other text field (``preprocessing.hygiene``)."""
    return validate_text(value, field)


class Correction(BaseModel):
    """One change to the model's fragments: confirm, add, remove or relabel ``[start, end)``."""

    model_config = ConfigDict(extra="forbid")

    action: Action = Field(
        ...,
        description="confirm: the fragment is right; add: a fragment "
        "the model missed; remove: not a technique; relabel: another technique.",
    )
    start: int = Field(
        ...,
        ge=0,
        strict=True,
        description="Character offset in the text "
        "(inclusive; Unicode code points, as /analyze reports them).",
    )
    end: int = Field(..., ge=1, strict=True, description="Character offset in the text (exclusive).")
    technique: str = Field(
        ...,
        description="Taxonomy id of the fragment's technique (for add: "
        "the technique it uses; otherwise: the one the model gave).",
        examples=["loaded_language"],
        json_schema_extra={"enum": list(taxonomy.TECHNIQUE_IDS)},
    )
    new_technique: str | None = Field(
        None,
        description="relabel only: the right taxonomy id.",
        examples=["name_calling"],
        json_schema_extra={"enum": [*taxonomy.TECHNIQUE_IDS, None]},
    )

    @field_validator("technique", "new_technique")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in taxonomy.TECHNIQUE_IDS:
            raise PydanticCustomError(
                "unknown_technique",
                "unknown technique '{value}'; known: {known}",
                {"value": value[:60], "known": ", ".join(taxonomy.TECHNIQUE_IDS)},
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Correction:
        if self.start >= self.end:
            raise PydanticCustomError(
                "bad_offsets",
                "start ({start}) must be less than end ({end})",
                {"start": self.start, "end": self.end},
            )
        if self.action == "relabel":
            if self.new_technique is None:
                raise PydanticCustomError(
                    "missing_new_technique", "a relabel needs new_technique (a taxonomy id)"
                )
            if self.new_technique == self.technique:
                raise PydanticCustomError(
                    "same_technique", "new_technique equals technique; use action confirm"
                )
        elif self.new_technique is not None:
            raise PydanticCustomError("unexpected_new_technique", "new_technique is only for action relabel")
        return self


class FeedbackIn(BaseModel):
    """A user's feedback on one text: span corrections, a whole-text judgement, a comment.

    ``client_id`` makes a retry safe: the same id with the same content is stored once.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    client_id: str = Field(
        ...,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Idempotency key made by the client (e.g. a UUID); "
        "resending the same feedback with it is safe.",
    )
    request_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="X-Request-ID of the /analyze call this feedback is "
        "about; joins it to the prediction log and model.",
    )
    text: str = Field(
        ...,
        strict=True,
        description="The text the feedback is about: not blank, at most serving.max_text_chars "
        f"characters (413 above), {RULE}.",
    )
    corrections: list[Correction] = Field(
        default_factory=list, description=("Span corrections (limit: feedback.max_corrections).")
    )
    judgement: Judgement | None = Field(None, description="Whole-text judgement.")
    comment: str | None = Field(
        None, description=f"Free text: at most feedback.max_comment_chars characters (413 above), {RULE}."
    )

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("empty_text", "text is empty or whitespace-only")
        return _no_bad_characters(value, "text")

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return _no_bad_characters(value, "comment") if value else None

    @model_validator(mode="after")
    def _within_text(self) -> FeedbackIn:
        length = len(self.text)
        for i, correction in enumerate(self.corrections):
            if correction.end > length:
                raise PydanticCustomError(
                    "offset_out_of_text",
                    "corrections.{i}: end ({end}) is past the end of the text ({length} characters)",
                    {"i": i, "end": correction.end, "length": length},
                )
        seen: dict[tuple[int, int, str], int] = {}
        for i, correction in enumerate(self.corrections):
            key = (correction.start, correction.end, correction.technique)
            if key in seen:
                raise PydanticCustomError(
                    "duplicate_correction",
                    "corrections.{i} and corrections.{j} both concern "
                    "[{start}, {end}) {technique}; send one correction per fragment and technique",
                    {"i": seen[key], "j": i, "start": key[0], "end": key[1], "technique": key[2]},
                )
            seen[key] = i
        if not self.corrections and self.judgement is None and self.comment is None:
            raise PydanticCustomError(
                "empty_feedback", "feedback is empty: send corrections, a judgement or a comment"
            )
        return self

    def content(self) -> dict[str, Any]:
        """What the user said, as stored (client_id excluded): equal content means a replay."""
        return {
            "request_id": self.request_id,
            "text": self.text,
            "judgement": self.judgement,
            "comment": self.comment,
            "corrections": [c.model_dump(exclude_none=True) for c in self.corrections],
        }


class FeedbackAck(BaseModel):
    """The acknowledgement: sent only once the feedback is committed to the database."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "client_id": EXAMPLE["client_id"],
                    "created": True,
                    "status": "new",
                    "request_id": EXAMPLE["request_id"],
                    "model": {"name": "mindlens-analyzer", "version": "3"},
                    "created_at": "2026-11-26T10:48:31Z",
                    "corrections": 3,
                }
            ]
        }
    )

    id: int = Field(..., description="Feedback id (GET /feedback/{id}).")
    client_id: str
    created: bool = Field(..., description="False when this is a replay of stored feedback.")
    status: str = Field(..., examples=["new"])
    request_id: str | None = None
    model: dict[str, str] | None = Field(
        None, description="The model whose prediction this is about, when request_id was found."
    )
    created_at: str
    corrections: int = Field(..., description="Number of span corrections stored.")

    @classmethod
    def from_record(cls, record: FeedbackRecord, created: bool) -> FeedbackAck:
        model = (
            {"name": record.model_name or "", "version": record.model_version or ""}
            if record.model_name or record.model_version
            else None
        )
        return cls(
            id=record.id,
            client_id=record.client_id,
            created=created,
            status=record.status,
            request_id=record.request_id,
            model=model,
            created_at=record.created_at.isoformat(),
            corrections=len(record.corrections),
        )


class FeedbackOut(BaseModel):
    """A stored feedback item (GET /feedback/{id})."""

    id: int
    client_id: str
    request_id: str | None
    text_sha256: str
    text_chars: int
    model_name: str | None
    model_version: str | None
    judgement: str | None
    corrections: list[dict[str, Any]]
    comment: str | None
    created_at: str
    status: str
    label_studio_task_id: int | None

    @classmethod
    def from_record(cls, record: FeedbackRecord) -> FeedbackOut:
        """The stored item with its text as sha256 and length only."""
        data = record.to_dict()
        data["text_chars"] = len(data.pop("text"))
        return cls(**data)
