"""Re-identification: by the exact tokens the vault holds for this message, never a regex scan.

A regex scan for 64 hex digits breaks when a token follows a hex character ("98.8" + token);
the vault knows which tokens belong to the message, so we look for exactly those.
"""

from __future__ import annotations

import re
from itertools import pairwise

from phiguard.crypto import Sealer
from phiguard.errors import ReidentificationError
from phiguard.transform import TOKEN_LENGTH, message_hash, restore
from phiguard.vaults.base import Vault

_TOKEN_LIKE = re.compile(rf"[0-9a-f]{{{TOKEN_LENGTH}}}")


def _occurrences(text: str, token: str) -> list[int]:
    found: list[int] = []
    i = text.find(token)
    while i != -1:
        found.append(i)
        i = text.find(token, i + len(token))
    return found


def reidentify(text: str, vault: Vault, sealer: Sealer) -> str:
    """The original text, exact to the byte, or ReidentificationError.

    Fails (naming counts and hashes only) when a vault token is absent from the text or when
    token-like strings remain that the vault does not hold for this message.
    """
    mhash = message_hash(text)
    records = vault.get(mhash)
    placed: list[tuple[int, str, str]] = []
    for r in records:
        where = _occurrences(text, r.token)
        if not where:
            raise ReidentificationError(
                f"message {mhash[:16]}: a vault token is missing from the text"
            )
        value = sealer.open(r.message_hash, r.token, r.ciphertext, r.key_id)
        placed.extend((i, r.token, value) for i in where)
    placed.sort()
    for (a, tok, _), (b, _, _) in pairwise(placed):
        if b < a + len(tok):
            raise ReidentificationError(f"message {mhash[:16]}: vault tokens overlap in the text")
    unknown = _count_unknown(text, placed)
    if unknown:
        raise ReidentificationError(
            f"message {mhash[:16]}: {unknown} token(s) not found in the vault"
            + ("" if records else " (no vault entries for this message: was it changed?)")
        )
    return restore(text, placed)


def _count_unknown(text: str, placed: list[tuple[int, str, str]]) -> int:
    """Token-like runs outside the known tokens: rows lost, or text edited after deid."""
    count = 0
    pos = 0
    for offset, token, _ in placed:
        count += len(_TOKEN_LIKE.findall(text, pos, offset))
        pos = offset + len(token)
    return count + len(_TOKEN_LIKE.findall(text, pos))
