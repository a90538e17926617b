"""The reference design's event and entity shapes, read strictly and written exactly.

Event: `{"body": {"message": str, "anonymizeOrDeidentify": "anonymize"|"deidentify",
"entities": [...]}}`; `body` may also be a JSON string (API Gateway proxy events). Entities are
Comprehend Medical's: `Id, BeginOffset, EndOffset, Score, Text, Category, Type, Traits`, offsets
being Python str indices (code points, as DetectPHI documents) into `message`.

Entities handed back in (MaskEntities, DeidentifyEntities after IdentifyPHI) are checked
against the message before anything is masked: offsets in range, and `Text`, when present,
equal to the characters at those offsets. A mismatch is an `InputError` naming the entity's
index and offsets, never its text: masking the wrong characters would release the right ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from phiguard.errors import InputError
from phiguard.spans import PhiType, Span

CATEGORY = "PROTECTED_HEALTH_INFORMATION"
ACTIONS = ("anonymize", "deidentify")
SOURCE = "event"
_TYPES = frozenset(t.value for t in PhiType)


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """One note's event: the message, the action asked for, the entities passed in (None if
    the event had none)."""

    message: str
    action: str | None
    entities: tuple[Mapping[str, Any], ...] | None


def body_of(event: Any) -> Mapping[str, Any]:
    """The event's `body` object (parsed if it is a JSON string)."""
    body = event.get("body") if isinstance(event, Mapping) else None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError as exc:
            raise InputError(f"the event's body is not JSON ({exc.msg})") from None
    if not isinstance(body, Mapping):
        raise InputError('the event has no "body" object')
    return body


def text_field(body: Mapping[str, Any], *names: str) -> str:
    """The first of `names` present in `body`, which must be a string of valid UTF-8."""
    for name in names:
        if name in body:
            value = body[name]
            if not isinstance(value, str):
                raise InputError(f"body.{name} must be a string, not {type(value).__name__}")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(f"body.{name} has an unpaired surrogate escape") from None
            return value
    raise InputError(f'the event body has no "{names[0]}"')


def note_event(event: Any) -> NoteEvent:
    body = body_of(event)
    message = text_field(body, "message")
    action = body.get("anonymizeOrDeidentify")
    if action is not None and action not in ACTIONS:
        raise InputError(f"body.anonymizeOrDeidentify must be one of {', '.join(ACTIONS)}")
    entities = body.get("entities")
    if entities is not None and not isinstance(entities, list):
        raise InputError("body.entities must be a list of entities")
    return NoteEvent(message, action, None if entities is None else tuple(entities))


def to_entities(text: str, spans: Sequence[Span]) -> list[dict[str, Any]]:
    """Spans in DetectPHI's entity shape, whatever backend found them."""
    return [
        {
            "Id": i,
            "BeginOffset": s.start,
            "EndOffset": s.end,
            "Score": float(s.score),
            "Text": text[s.start : s.end],
            "Category": CATEGORY,
            "Type": s.type,
            "Traits": [],
        }
        for i, s in enumerate(spans)
    ]


def from_entities(text: str, entities: Sequence[Any]) -> list[Span]:
    """Spans for entities passed in, each checked against `text` (module docstring)."""
    spans = []
    for i, entity in enumerate(entities):
        if not isinstance(entity, Mapping):
            raise InputError(f"entity {i} is not an object")
        begin, end = entity.get("BeginOffset"), entity.get("EndOffset")
        if type(begin) is not int or type(end) is not int:  # not bool, not float
            raise InputError(f"entity {i} has no integer BeginOffset and EndOffset")
        if not 0 <= begin < end <= len(text):
            raise InputError(
                f"entity {i} at {begin}..{end} is outside the message (length {len(text)})"
            )
        found = entity.get("Text")
        if found is not None and found != text[begin:end]:
            raise InputError(
                f"entity {i} at {begin}..{end}: its Text is not the message's text there; "
                "refusing to mask a guess"
            )
        etype = str(entity.get("Type", ""))
        score = entity.get("Score", 1.0)
        spans.append(
            Span(
                begin,
                end,
                etype if etype in _TYPES else PhiType.OTHER.value,
                float(score) if isinstance(score, int | float) else 1.0,
                SOURCE,
            )
        )
    return spans
