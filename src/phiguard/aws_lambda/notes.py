"""The reference design's functions, one note per event: IdentifyPHI, MaskEntities,
DeidentifyEntities, plus ReidentifyEntities.

- `identify_phi` → the entity list in Comprehend Medical's shape, whatever the backend.
- `mask_entities` → the masked message (a string). Uses the entities in the event (checked
  against the message), or detects them if there are none.
- `deidentify_entities` → `{"deid_message", "hashed_message"}`: the message with salted
  SHA3-256 tokens, and the SHA3-256 hex of that message (the vault's key for it). Returned only
  after the encrypted mapping is stored.
- `reidentify_entities` → the original message, from `body.message` (or `body.deid_message`,
  so DeidentifyEntities' output can be passed on as it is), audited as the function's role.

Fixed from the reference: offsets (not `str.replace` of the entity text) decide what is
replaced, so a name that also occurs as an ordinary word elsewhere, or twice, is replaced where
it was found and only there; notes over DetectPHI's 20,000-byte limit are cut and their offsets
mapped back; tokens are salted (equal names are not linkable); values are sealed before they
are stored; a failed write releases nothing.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Any

from phiguard.aws_lambda.environment import Role, pipeline
from phiguard.aws_lambda.events import NoteEvent, body_of, from_entities, note_event, text_field
from phiguard.aws_lambda.events import to_entities as entity_list
from phiguard.aws_lambda.runtime import current_deadline, lambda_handler, quiet_third_party_logs
from phiguard.errors import ConfigError
from phiguard.run.deidentifier import Deidentifier
from phiguard.spans import Span
from phiguard.transform import MaskStyle, mask

log = logging.getLogger("phiguard.aws_lambda")
quiet_third_party_logs()


def _types(spans: list[Span]) -> str:
    return ", ".join(f"{t} {n}" for t, n in Counter(s.type for s in spans).most_common()) or "none"


def _spans(d: Deidentifier, note: NoteEvent) -> list[Span]:
    """The event's entities (checked, then resolved like detector output), else detection."""
    if note.entities:
        spans = d.resolver(note.message, from_entities(note.message, note.entities))
        log.info("entities from the event: %s", _types(spans))
        return spans
    current_deadline().check("detection")
    spans = d.detect(note.message)
    log.info("detected (%s): %s", d.detector.name, _types(spans))
    return spans


@lambda_handler
def identify_phi(event: Any, context: Any) -> list[dict[str, Any]]:
    """IdentifyPHI: the PHI entities of `body.message`."""
    note = note_event(event)
    d = pipeline(Role.DETECT)
    current_deadline().check("detection")
    spans = d.detect(note.message)
    log.info("identify_phi (%s): %s", d.detector.name, _types(spans))
    return entity_list(note.message, spans)


@lambda_handler
def mask_entities(event: Any, context: Any) -> str:
    """MaskEntities (Anonymize): the message with every PHI character masked."""
    note = note_event(event)
    style = os.environ.get("PHIGUARD_MASK_STYLE", MaskStyle.HASH.value)
    if style not in {s.value for s in MaskStyle}:
        raise ConfigError(f"PHIGUARD_MASK_STYLE must be hash or label, not {style!r}")
    return mask(note.message, _spans(pipeline(Role.DETECT), note), style)


@lambda_handler
def deidentify_entities(event: Any, context: Any) -> dict[str, str]:
    """DeidentifyEntities: tokens in the message, the mapping stored first."""
    note = note_event(event)
    d = pipeline(Role.WRITE)
    assert d.vault is not None and d.sealer is not None  # Role.WRITE opened both
    tokenized = d.tokenize(note.message, _spans(d, note))
    rows = d.records(tokenized, d.sealer)
    current_deadline().check("the vault write")
    d.vault.put(rows)  # raises: nothing is returned
    log.info("deidentify_entities: %d token(s) stored for %s", len(rows), tokenized.message_hash)
    return {"deid_message": tokenized.text, "hashed_message": tokenized.message_hash}


@lambda_handler
def reidentify_entities(event: Any, context: Any) -> str:
    """ReidentifyEntities: the original message; audited before it is returned."""
    text = text_field(body_of(event), "message", "deid_message")
    d = pipeline(Role.READ)
    request = getattr(context, "aws_request_id", None)
    if d.auditor is not None and request:
        d.auditor.session = f"lambda:{request}"  # audit records point at the invocation
    current_deadline().check("re-identification")
    original = d.reidentify(text)
    log.info("reidentify_entities: audited, session %s", d.auditor.session if d.auditor else "-")
    return original
