"""The one transform engine: each span gets its policy's action, in one pass over the offsets.

Output is built from offsets, never with str.replace: the reference design's
`message.replace(entity, hash)` rewrote "50" inside "500 mg" and inside earlier tokens, and gave
every repeat of a value the first token. Here each span is replaced exactly where it stands,
and the pass returns, with the new text, every replacement the vault must hold: where it
stands in the OUTPUT, what was written there, the value it replaced. `mask`, `tokenize` and
`apply(policy)` (deid, surrogate, mixed policies) are this same pass.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from phiguard.spans import Span
from phiguard.transform.policy import KEYED, Action, Policy

TOKEN_LENGTH = 64  # hex digits of SHA3-256
TOKEN_LIKE = re.compile(rf"[0-9a-f]{{{TOKEN_LENGTH},}}")
SALT_BYTES = 16
LOOKALIKE = "token-lookalike"  # the source of spans `with_lookalikes` adds


class MaskStyle(StrEnum):
    HASH = "hash"  # '#' for every character: the reference behaviour, keeps the layout
    LABEL = "label"  # '[TYPE]'


class SurrogateSource(Protocol):
    """What the engine asks for a surrogate (phiguard.surrogates.Surrogates): None means
    no surrogate can be made, and the engine writes the type label instead."""

    def surrogate(self, value: str, phi_type: str) -> str | None: ...


def _check(text: str, spans: Sequence[Span]) -> list[Span]:
    """Spans sorted and validated: in range, not overlapping (resolve them first)."""
    ordered = sorted(spans)
    prev_end = 0
    for s in ordered:
        if s.start < prev_end or s.end > len(text):
            raise ValueError(
                f"spans must be resolved and inside the text (span {s.start}..{s.end}, "
                f"text length {len(text)})"
            )
        prev_end = s.end
    return ordered


def message_hash(deidentified: str) -> str:
    """The vault's partition key: SHA3-256 hex of the de-identified text (UTF-8)."""
    return hashlib.sha3_256(deidentified.encode("utf-8")).hexdigest()


def new_token(value: str) -> str:
    """SHA3-256 hex of value + a fresh random salt: unlinkable across occurrences."""
    salt = secrets.token_bytes(SALT_BYTES)
    return hashlib.sha3_256(value.encode("utf-8", "surrogatepass") + salt).hexdigest()


def with_lookalikes(text: str, spans: Sequence[Span]) -> list[Span]:
    """`spans` plus every run of 64+ lower-case hex digits outside them (type OTHER).

    Such a run (a checksum, say) would read as an unknown token at re-identification and make
    the note unrecoverable; tokenizing it too keeps the round trip exact.
    """
    out = sorted(spans)
    gaps = zip([0, *(s.end for s in out)], [*(s.start for s in out), len(text)], strict=True)
    extra = [
        Span(m.start(), m.end(), "OTHER", 1.0, LOOKALIKE)
        for a, b in gaps
        for m in TOKEN_LIKE.finditer(text, a, b)
    ]
    return sorted(out + extra) if extra else out


@dataclass(frozen=True, slots=True)
class Replacement:
    """A reversible replacement: `token` is what stands in the output at str index `offset`
    (a token, or a surrogate, or the label written when no surrogate could be made), `value`
    the original it replaced (at str index `origin` of the input), `action` token, surrogate
    or shift."""

    token: str
    type: str
    value: str
    offset: int
    action: Action = Action.TOKEN
    origin: int = -1


@dataclass(frozen=True, slots=True)
class Transformed:
    """A note after the engine: its text, the vault key of its mapping, the replacements to
    seal. `unique`: the text holds a fresh-salt token, so no other note or run can produce it
    (its rows are this run's alone, see phiguard.run.batch). `policy`: what produced it."""

    text: str
    message_hash: str
    replacements: tuple[Replacement, ...]
    unique: bool = False
    policy: Policy | None = None


Tokenized = Transformed  # the name before policies: a note whose every span is a token


def _label(span: Span) -> str:
    return f"[{span.type}]"


def _plan(
    text: str, spans: Sequence[Span], policy: Policy, lookalikes: bool
) -> list[tuple[Span, Action]]:
    """Each span with its action; kept spans drop out (they are text again), and with
    `lookalikes` the 64-hex runs left in the text are tokenized so re-identification can
    never mistake them for a lost token."""
    planned = [(s, policy.action(s.type)) for s in _check(text, spans)]
    planned = [(s, a) for s, a in planned if a is not Action.KEEP]
    if not lookalikes:
        return planned
    replaced = [s for s, _ in planned]
    extra = [s for s in with_lookalikes(text, replaced) if s.source == LOOKALIKE]
    if not extra:
        return planned
    return sorted(planned + [(s, Action.TOKEN) for s in extra], key=lambda p: p[0])


def apply(
    text: str,
    spans: Sequence[Span],
    policy: Policy,
    *,
    make_token: Callable[[str], str] = new_token,
    fresh_tokens: bool = True,
    surrogates: SurrogateSource | None = None,
    lookalikes: bool | None = None,
) -> Transformed:
    """`text` with each resolved span transformed by `policy`, in one pass.

    `make_token` makes tokens (`fresh_tokens`: it draws a fresh salt each time, as the
    default does); `surrogates` (required when the policy has surrogate or shift actions)
    gives surrogates for the note's scope. A surrogate that cannot be made, or that would
    look like a token, is written as the type label, still reversibly: never the original.
    A surrogate equal to its original (an age of 89 or under, a year the shift keeps) is not
    PHI and needs no row. `lookalikes` (default: when the policy is reversible) tokenizes
    64-hex runs of the text, see `with_lookalikes`.
    """
    if surrogates is None and policy.keyed:
        raise ValueError("this policy makes surrogates: pass the note's `surrogates`")
    plan = _plan(text, spans, policy, policy.reversible if lookalikes is None else lookalikes)
    parts: list[str] = []
    replacements: list[Replacement] = []
    pos = out_len = 0
    for s, action in plan:
        gap = text[pos : s.start]
        parts.append(gap)
        out_len += len(gap)
        value = text[s.start : s.end]
        if action is Action.MASK:
            written = "#" * (s.end - s.start)
        elif action is Action.LABEL:
            written = _label(s)
        elif action is Action.TOKEN:
            written = make_token(value)
            replacements.append(Replacement(written, s.type, value, out_len, action, s.start))
        else:
            assert surrogates is not None and action in KEYED
            made = surrogates.surrogate(value, s.type)
            written = _label(s) if made is None or TOKEN_LIKE.search(made) else made
            if written != value:
                replacements.append(Replacement(written, s.type, value, out_len, action, s.start))
        parts.append(written)
        out_len += len(written)
        pos = s.end
    parts.append(text[pos:])
    out = "".join(parts)
    unique = fresh_tokens and any(r.action is Action.TOKEN for r in replacements)
    return Transformed(out, message_hash(out), tuple(replacements), unique, policy)


_MASK = {MaskStyle.HASH: Policy.mask("hash"), MaskStyle.LABEL: Policy.mask("label")}
_TOKENS = Policy.deid()


def mask(text: str, spans: Sequence[Span], style: MaskStyle | str = MaskStyle.HASH) -> str:
    """Replace each span by '#' x its length, or by '[TYPE]'; all else stays identical."""
    return apply(text, spans, _MASK[MaskStyle(style)]).text


def tokenize(
    text: str, spans: Sequence[Span], make_token: Callable[[str], str] = new_token
) -> Transformed:
    """Replace each span by a token, recording where each token lands in the output."""
    return apply(
        text,
        spans,
        _TOKENS,
        make_token=make_token,
        fresh_tokens=make_token is new_token,
        lookalikes=False,
    )


def restore(text: str, replacements: Sequence[tuple[int, str, str]]) -> str:
    """Put values back: `replacements` are (offset, written, value) into `text`.

    Each written string (token or surrogate) is checked to stand exactly at its offset, so a
    token that follows a hex character ("98.8" + token) or resembles another is never
    confused.
    """
    parts: list[str] = []
    pos = 0
    for offset, token, value in sorted(replacements):
        if offset < pos or text[offset : offset + len(token)] != token:
            raise ValueError(f"a replacement is not at offset {offset}")
        parts.append(text[pos:offset])
        parts.append(value)
        pos = offset + len(token)
    parts.append(text[pos:])
    return "".join(parts)
