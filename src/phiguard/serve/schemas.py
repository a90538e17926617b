"""Request and response bodies of /v1: one note (`text`) or a batch (`records`), with the
per-request options. Unknown fields are refused (a misspelt option must not be ignored)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from phiguard.errors import InputError
from phiguard.known import KnownPhi
from phiguard.run.records import Item
from phiguard.spans import PhiType

PhiTypeName = Literal[
    "NAME",
    "AGE",
    "DATE",
    "PHONE_OR_FAX",
    "EMAIL",
    "ID",
    "URL",
    "ADDRESS",
    "PROFESSION",
    "LOCATION",
    "ORGANIZATION",
    "OTHER",
]
assert set(PhiTypeName.__args__) == {t.value for t in PhiType}  # type: ignore[attr-defined]

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_TERMS = 10_000


def checked_text(value: str) -> str:
    """A note must round-trip exactly: no NUL (as for files) and no lone surrogate (it has no
    UTF-8 form, so no response could carry it back)."""
    m = _BAD_CHAR.search(value)
    if m is not None:
        what = "a NUL character" if m.group() == "\x00" else "a lone surrogate (not Unicode text)"
        raise ValueError(f"text contains {what} at offset {m.start()}")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


KnownIn = str | list[Any] | dict[str, Any]


class RecordIn(_Body):
    id: str | int | None = Field(None, description="Returned with the record's result.")
    text: str
    known: KnownIn | None = Field(
        None, description="This record's known PHI (added to the request's `known`)."
    )
    patient_id: str | None = Field(None, description="This record's patient (surrogates).")

    @field_validator("known")
    @classmethod
    def _known_phi(cls, value: KnownIn | None) -> KnownIn | None:
        _known(value)  # an unknown type or a malformed value is a 422, before any work
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return checked_text(value)


class _OneOrMany(_Body):
    text: str | None = Field(None, description="One note.")
    records: list[RecordIn] | None = Field(None, description="A batch of notes, answered in order.")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return value if value is None else checked_text(value)

    @model_validator(mode="after")
    def _one_of(self) -> Any:
        if (self.text is None) == (self.records is None):
            raise ValueError("give exactly one of 'text' (one note) or 'records' (a batch)")
        return self

    def items(self) -> list[Item]:
        """The library's batch items: known PHI and patient of the request, or of a record."""
        known = _known(getattr(self, "known", None))
        patient = getattr(self, "patient_id", None)
        if self.records is None:
            return [Item(None, self.text or "", known=known, patient=patient)]
        return [
            Item(
                r.id,
                r.text,
                known=_merge(known, _known(r.known)),
                patient=r.patient_id or patient,
            )
            for r in self.records
        ]


def _known(value: Any) -> KnownPhi | None:
    """Known PHI as the CLI's --known-field takes it: strings and lists are names."""
    if value is None:
        return None
    try:
        return KnownPhi.of(value, "NAME") or None
    except InputError as exc:
        raise ValueError(str(exc)) from None


def _merge(a: KnownPhi | None, b: KnownPhi | None) -> KnownPhi | None:
    if a is None or b is None:
        return a or b
    return a | b


class DetectionOptions(_OneOrMany):
    """Options refine the server's policy for this request: `entities` narrows the types
    kept, `threshold` replaces the score cut, `allow`/`deny` add to the server's lists."""

    entities: list[PhiTypeName] | None = None
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    allow: list[str] = Field(default_factory=list, max_length=_TERMS)
    deny: list[str] = Field(default_factory=list, max_length=_TERMS)
    known: KnownIn | None = Field(
        None,
        description="Known PHI of the patient (name, MRN, DOB...): a string, a list, or "
        '{"NAME": ..., "ID": [...]}; found wherever it occurs, in every name form.',
    )
    patient_id: str | None = Field(
        None,
        description="The patient (surrogates): one date offset and one name mapping per patient.",
    )

    @field_validator("known")
    @classmethod
    def _known_phi(cls, value: KnownIn | None) -> KnownIn | None:
        _known(value)
        return value


class DetectRequest(DetectionOptions):
    include_text: bool = Field(
        False, description="Add each span's text (it is PHI): needs the `reid` scope."
    )


class SpanIn(_Body):
    start: int = Field(ge=0)
    end: int = Field(ge=1)
    type: PhiTypeName = "OTHER"


class MaskRequest(DetectionOptions):
    style: Literal["hash", "label"] = "hash"
    spans: list[SpanIn] | None = Field(
        None,
        description="Mask exactly these spans instead of detecting (one `text` only): the "
        "review page sends the spans a reviewer kept and added.",
    )


class DeidentifyRequest(DetectionOptions):
    pass


class SurrogateRequest(DetectionOptions):
    pass


class ReidentifyRequest(_OneOrMany):
    pass


# -- responses (for the OpenAPI document; routes build plain dicts for speed) -----------------


class SpanOut(BaseModel):
    start: int
    end: int
    type: str
    score: float
    source: str
    text: str | None = None


class ErrorOut(BaseModel):
    status: int
    code: str
    message: str
    request_id: str | None = None


class RecordOut(BaseModel):
    id: str | int | None = None
    text: str | None = None
    spans: list[SpanOut] | None = None
    message_hash: str | None = None
    error: ErrorOut | None = None


class NoteOut(BaseModel):
    text: str | None = None
    spans: list[SpanOut] | None = None
    message_hash: str | None = None
    records: list[RecordOut] | None = None


class ErrorBody(BaseModel):
    error: ErrorOut


def field_names() -> frozenset[str]:
    """Every field name of the request schemas (error locations keep only these)."""
    models: list[type[BaseModel]] = [
        RecordIn,
        DetectRequest,
        MaskRequest,
        DeidentifyRequest,
        ReidentifyRequest,
        SpanIn,
    ]
    return frozenset({"body"} | {f for m in models for f in m.model_fields})
