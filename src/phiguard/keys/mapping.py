"""A note's mapping as vault rows, and back: what re-identification needs, sealed.

Every row lives under the message hash (SHA3-256 of the OUTPUT text) and is sealed with
AES-256-GCM bound to (message hash, row key), exactly like tokens.

- **Token rows** (as before): row key = the token, sealed value = the original. Re-identification
  finds each token exactly in the text, wherever it stands.
- **Surrogate rows** (row key `s1:…`): a surrogate is ordinary text, so it is placed by offset.
  Row key = `s1:` + HMAC-SHA3-256(surrogate key, message hash, tag, offset); sealed payload =
  JSON `[tag, n, written, original]`: the surrogate written at that offset of the output, the
  original it replaced, and `n`, the number of surrogate rows of the note. `tag` =
  HMAC(surrogate key, message hash, every (offset, written, original, type) of the note): it
  names the note's whole mapping.
- **An empty mapping** (row key `s1:none`, `n` = 0): a note with nothing reversible in it, under
  a policy that makes surrogates, still records that this text is what it was.

Why keyed and deterministic: surrogate output is deterministic (same key, scope and note give
the same text), so a re-run writes the very same row keys (idempotent, no second mapping
beside the first), and the row keys say nothing about the values without the key. Why the
tag: two DIFFERENT notes can give the same output text (short notes, surrogate collisions); their
rows then sit side by side under one message hash with different tags, and `surrogate_places`
refuses, instead of returning another patient's value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from phiguard.errors import ConfigError, ReidentificationError
from phiguard.keys.sealer import Sealer
from phiguard.surrogates.keyed import frame, utf8
from phiguard.transform import Action, Transformed
from phiguard.vaults.base import VaultRecord

PREFIX = "s1:"
EMPTY = PREFIX + "none"
EMPTY_TYPE = "NONE"
_ROW = b"phiguard/mapping-row/v1"
_TAG = b"phiguard/mapping-tag/v1"
_TAG_BYTES = 16


def is_mapping_row(row_key: str) -> bool:
    """A surrogate-mapping row (placed by offset), not a token row (found by its token)."""
    return row_key.startswith(PREFIX)


def _tag(key: bytes, mhash: str, t: Transformed) -> str:
    mac = hmac.new(key, frame(_TAG, utf8(mhash)), hashlib.sha3_256)
    for r in t.replacements:
        if r.action is not Action.TOKEN:
            mac.update(frame(str(r.offset).encode(), utf8(r.token), utf8(r.value), utf8(r.type)))
    return mac.digest()[:_TAG_BYTES].hex()


def _row_key(key: bytes, mhash: str, tag: str, offset: int) -> str:
    mac = hmac.new(key, frame(_ROW, utf8(mhash), utf8(tag), str(offset).encode()), hashlib.sha3_256)
    return PREFIX + mac.hexdigest()


def mapping_rows(t: Transformed, sealer: Sealer, key: bytes | None = None) -> list[VaultRecord]:
    """The rows that let `t.text` be re-identified: one per distinct token, one per surrogate,
    or the empty mapping (a policy with surrogates, nothing replaced). `key`: the surrogate
    key, needed when there are surrogate rows."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    mhash = t.message_hash
    rows: dict[str, VaultRecord] = {}
    surrogates = [r for r in t.replacements if r.action is not Action.TOKEN]
    for r in t.replacements:
        if r.action is Action.TOKEN and r.token not in rows:
            sealed = sealer.seal(mhash, r.token, r.value)
            rows[r.token] = VaultRecord(
                mhash, r.token, r.type, sealed, sealer.key_id, r.offset, now
            )
    if not surrogates and (rows or t.policy is None or not t.policy.keyed):
        return list(rows.values())
    if key is None:
        raise ConfigError("surrogate rows need the surrogate key (open the pipeline as a writer)")
    tag = _tag(key, mhash, t)
    n = len(surrogates)
    for r in surrogates:
        row_key = _row_key(key, mhash, tag, r.offset)
        payload = json.dumps([tag, n, r.token, r.value])
        sealed = sealer.seal(mhash, row_key, payload)
        rows[row_key] = VaultRecord(mhash, row_key, r.type, sealed, sealer.key_id, r.offset, now)
    if not rows:
        payload = json.dumps([tag, 0, "", ""])
        sealed = sealer.seal(mhash, EMPTY, payload)
        rows[EMPTY] = VaultRecord(mhash, EMPTY, EMPTY_TYPE, sealed, sealer.key_id, 0, now)
    return list(rows.values())


def _entry(mhash: str, row: VaultRecord, sealer: Sealer) -> tuple[str, int, str, str]:
    payload = sealer.open(mhash, row.token, row.ciphertext, row.key_id)
    try:
        tag, n, written, original = json.loads(payload)
        if not (isinstance(tag, str) and isinstance(n, int) and isinstance(written, str)):
            raise ValueError
        if not isinstance(original, str):
            raise ValueError
    except ValueError:
        raise ReidentificationError(
            f"message {mhash[:16]}: a surrogate entry in the vault is malformed"
        ) from None
    return tag, n, written, original


def surrogate_places(
    text: str, mhash: str, rows: Sequence[VaultRecord], sealer: Sealer
) -> list[tuple[int, str, str]]:
    """(offset, surrogate, original) for each surrogate row of the message, each checked to
    stand at its offset of `text`; ReidentificationError when the rows are not one note's
    complete mapping (naming counts and offsets, never a value)."""
    if not rows:
        return []
    entries = [(r, *_entry(mhash, r, sealer)) for r in rows]
    tags = {tag for _, tag, _, _, _ in entries}
    if len(tags) > 1:
        raise ReidentificationError(
            f"message {mhash[:16]}: {len(tags)} different notes were turned into this same text "
            "(their vault entries disagree); which one it is cannot be told, so none is restored"
        )
    counts = {n for _, _, n, _, _ in entries}
    placed = [(r.offset, w, o) for r, _, _, w, o in entries if r.token != EMPTY]
    expected = counts.pop() if len(counts) == 1 else -1
    if expected != len(placed):
        raise ReidentificationError(
            f"message {mhash[:16]}: the vault holds {len(placed)} of the note's surrogate "
            f"entries, not {max(expected, 0)} (rows lost?)"
        )
    seen: set[int] = set()
    for offset, written, _ in sorted(placed):
        if offset in seen:  # pragma: no cover - one tag, one offset per row key
            raise ReidentificationError(f"message {mhash[:16]}: two entries at offset {offset}")
        seen.add(offset)
        if text[offset : offset + len(written)] != written:
            raise ReidentificationError(
                f"message {mhash[:16]}: the surrogate recorded at offset {offset} is not in the "
                "text (was it changed after de-identification?)"
            )
    return placed
