"""Re-identification: by the exact tokens and surrogates the vault holds for this message.

Tokens are found exactly, never by a regex scan: a scan for 64 hex digits breaks when a token
follows a hex character ("98.8" + token); the vault knows which tokens belong to the message,
so we look for exactly those. Surrogates are ordinary text, so their rows say where they stand
(the offset in the output) and are checked to stand there (phiguard.keys.mapping). Masked and
labelled spans have no row: they stay masked, by design.
"""

from __future__ import annotations

import re
from itertools import pairwise

from phiguard.audit import Auditor, open_auditor
from phiguard.errors import Hint, ReidentificationError
from phiguard.keys.mapping import is_mapping_row, surrogate_places
from phiguard.keys.sealer import Sealer
from phiguard.transform import TOKEN_LENGTH, restore
from phiguard.transform import message_hash as _message_hash
from phiguard.vaults.base import Vault

_TOKEN_LIKE = re.compile(rf"[0-9a-f]{{{TOKEN_LENGTH}}}")


_HEX_RUN = re.compile(rf"[0-9a-f]{{{TOKEN_LENGTH},}}")


def _locate(text: str, tokens: set[str]) -> dict[str, list[int]]:
    """Every exact, non-overlapping occurrence of each of `tokens`, in one pass over `text`.

    Tokens can only stand inside runs of hex digits; every 64-wide window of each run is looked
    up, so a token glued to other hex ("98.8" + token) is still found. Linear in the text
    (a `str.find` per token was quadratic: minutes on a 10 MB note with 25k tokens).
    """
    found: dict[str, list[int]] = {}
    for m in _HEX_RUN.finditer(text):
        run, base = m.group(), m.start()
        for i in range(len(run) - TOKEN_LENGTH + 1):
            window = run[i : i + TOKEN_LENGTH]
            if window in tokens:
                where = found.setdefault(window, [])
                if not where or base + i >= where[-1] + TOKEN_LENGTH:
                    where.append(base + i)
    return found


def reidentify(
    text: str,
    vault: Vault,
    sealer: Sealer,
    auditor: Auditor | None = None,
    *,
    message_hash: str | None = None,
    partial: bool = False,
    require_mapping: bool = False,
) -> str:
    """The original text, exact to the byte, or ReidentificationError.

    Every call is audited before the text is returned (no record, no text): by `auditor`, else
    by the vault's own audit log as its caller; a vault without one is refused before anything
    is read. Fails (naming counts, offsets and hashes only) when a vault token is absent from the
    text, when token-like strings remain that the vault does not hold for this message, or when
    its surrogate rows are not one note's complete mapping (two different notes gave this text).
    A text the vault holds nothing for comes back as it is (a note with nothing replaced),
    unless `require_mapping`: then it fails, since an edited surrogate note looks exactly like
    that.

    `message_hash` (what `deid --format json` prints) finds the vault rows of a text that was
    edited after de-identification; such a text is refused unless `partial`, which restores
    every token of that message still present and leaves the rest as it is (surrogates are
    placed by offset, so an edited text gets its tokens back, not its surrogates).
    """
    if auditor is None:
        auditor = open_auditor(vault)
    actual = _message_hash(text)
    mhash = message_hash or actual
    if mhash != actual and not partial:
        raise ReidentificationError(
            f"message {mhash[:16]}: the text was changed after de-identification",
            hint=Hint.PARTIAL,
        )
    records = vault.get(mhash)
    if not records and (require_mapping or partial):
        raise ReidentificationError(
            f"message {mhash[:16]}: no vault entries for this text (was it changed after "
            "de-identification, or is it from another vault?)",
            hint=None if partial else Hint.PARTIAL,
        )
    tokens = [r for r in records if not is_mapping_row(r.token)]
    mappings = [r for r in records if is_mapping_row(r.token)]
    placed = [] if mhash != actual else surrogate_places(text, mhash, mappings, sealer)
    located = _locate(text, {r.token for r in tokens})
    for r in tokens:
        where = located.get(r.token)
        if not where:
            if partial:
                continue  # edited away: nothing to restore
            raise ReidentificationError(
                f"message {mhash[:16]}: a vault token is missing from the text"
            )
        value = sealer.open(r.message_hash, r.token, r.ciphertext, r.key_id)
        placed.extend((i, r.token, value) for i in where)
    placed.sort()
    for (a, tok, _), (b, _, _) in pairwise(placed):
        if b < a + len(tok):
            raise ReidentificationError(f"message {mhash[:16]}: vault entries overlap in the text")
    unknown = 0 if partial else _count_unknown(text, placed)
    if unknown:
        raise ReidentificationError(
            f"message {mhash[:16]}: {unknown} token(s) not found in the vault"
            + ("" if records else " (no vault entries for this message: was it changed?)"),
            hint=None if records else Hint.PARTIAL,
        )
    restored = restore(text, placed)
    if placed:
        auditor.record_reid([mhash], len(placed))
    return restored


def _count_unknown(text: str, placed: list[tuple[int, str, str]]) -> int:
    """Token-like runs outside the known tokens: rows lost, or text edited after deid."""
    count = 0
    pos = 0
    for offset, token, _ in placed:
        count += len(_TOKEN_LIKE.findall(text, pos, offset))
        pos = offset + len(token)
    return count + len(_TOKEN_LIKE.findall(text, pos))
