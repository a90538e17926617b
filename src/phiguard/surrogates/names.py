"""Person names: realistic surrogates in the original's form, case and gender.

A name is split into words and the text between them (kept verbatim: spaces, commas, dots,
hyphens). Titles ("Dr.", "Mrs."), suffixes and credentials ("Jr.", "III", "MD") and surname
particles ("de la") stay as written; every other word gets a role (given name or surname) from
the name's form: "LAST, FIRST", "First [Middle] Last", "Title Last", "F. Last"; a lone word by
which list ranks it higher. Initials stay initials.

Consistency by parts: a word's surrogate is a pure function of (key, scope, role, folded word),
so "Carlos Salazar", "SALAZAR, CARLOS", "Mr. Salazar" and "Carlos" agree in every process.
Initials agree too: each scope has a keyed letter map with no fixed point (Sattolo's cycle),
and a word's surrogate is drawn among names starting with its mapped initial, so "C. Salazar"
becomes "K. Ortiz" when "Carlos Salazar" becomes "Kevin Ortiz". Because the initial always
changes, no surrogate word equals its original word; one that happens to equal another word of
the same name ("John Thomas" -> "... John") is drawn again for that name only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from phiguard.surrogates.casing import apply_case, case_of, fold
from phiguard.surrogates.keyed import Keyed
from phiguard.surrogates.pools import TARGET_LETTERS, Pools, pools

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['\u2019][sS]$")
_VOWELS = frozenset("aeiouy")
# Suffixes that are never a surname; the others ("MD", "PA", "Do") count only when written in
# capitals, after a comma or with a dot, so "Linh Do" keeps "Do" as a surname.
_PLAIN_SUFFIXES = frozenset({"jr", "jnr", "sr", "snr", "ii", "iii", "iv", "vi", "vii", "viii"})
_CACHE_LIMIT = 200_000
_MAX_ATTEMPTS = 16


class Kind(Enum):
    TITLE = "title"
    SUFFIX = "suffix"
    PARTICLE = "particle"
    INITIALS = "initials"
    WORD = "word"


class Role(Enum):
    GIVEN = "given"
    SURNAME = "surname"


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    text: str
    folded: str
    kind: Kind = Kind.WORD
    role: Role = Role.SURNAME


def _tokens(value: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _WORD.finditer(value):
        start, end, text = m.start(), m.end(), m.group()
        if not any(map(str.isalpha, text)):  # "¹" is a word character but not a letter
            continue
        if len(text) > 3 and _POSSESSIVE.search(text):  # "Smith's": the "'s" stays as written
            end -= 2
            text = text[:-2]
        out.append(_Tok(start, end, text, fold(text)))
    return out


def _gap(value: str, toks: list[_Tok], i: int) -> str:
    """The text before token i."""
    return value[toks[i - 1].end if i else 0 : toks[i].start]


def _after(value: str, toks: list[_Tok], i: int) -> str:
    nxt = toks[i + 1].start if i + 1 < len(toks) else len(value)
    return value[toks[i].end : nxt]


def _classify(value: str, toks: list[_Tok], lists: Pools) -> None:
    n = len(toks)
    # Trailing suffixes/credentials (never the first token): scanned from the end.
    i = n - 1
    while i > 0:
        t = toks[i]
        marked = (
            t.text.isupper() or "," in _gap(value, toks, i) or _after(value, toks, i)[:1] == "."
        )
        if t.folded in _PLAIN_SUFFIXES or (t.folded in lists.suffixes and marked):
            t.kind = Kind.SUFFIX
            i -= 1
        else:
            break
    last_core = i
    seen_word = False
    for j, t in enumerate(toks[: last_core + 1]):
        f = t.folded
        if not seen_word and f in lists.titles and (j < last_core or n == 1):
            t.kind = Kind.TITLE
        elif (
            f in lists.particles
            and j < last_core
            and (t.text.islower() or seen_word or toks[j + 1].folded in lists.particles)
        ):
            t.kind = Kind.PARTICLE
            seen_word = True
        elif len(f) == 1 or (
            t.text.isupper()
            and 2 <= len(f) <= 3
            and f not in lists.given_rank
            and f not in lists.surname_rank
            and not (len(f) == 3 and f[1] in _VOWELS)
        ):
            t.kind = Kind.INITIALS
            seen_word = True
        else:
            t.kind = Kind.WORD
            seen_word = True


def _groups(value: str, toks: list[_Tok]) -> list[list[int]]:
    """Hyphen-joined WORD tokens ("Smith-Jones") form one group sharing a role."""
    groups: list[list[int]] = []
    for i, t in enumerate(toks):
        if t.kind is not Kind.WORD:
            continue
        if groups and groups[-1][-1] == i - 1 and _gap(value, toks, i) in ("-", "\u2010", "\u2013"):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _lone_role(folded: str, lists: Pools) -> Role:
    given = lists.given_rank.get(folded)
    if given is not None and given < lists.surname_rank.get(folded, 1 << 30):
        return Role.GIVEN
    return Role.SURNAME


def _assign_roles(value: str, toks: list[_Tok], lists: Pools) -> None:
    groups = _groups(value, toks)
    if not groups:
        return
    roles: list[Role] = []
    first_end = toks[groups[0][-1]].end
    comma = value.find(",", first_end)
    core_after_comma = comma >= 0 and any(
        t.start > comma and t.kind in (Kind.WORD, Kind.INITIALS) for t in toks
    )
    if core_after_comma:  # "SALAZAR, CARLOS A."
        roles = [Role.SURNAME if toks[g[0]].start < comma else Role.GIVEN for g in groups]
    elif len(groups) == 1:
        first_word = groups[0][0]
        before = [t.kind for t in toks[:first_word]]
        if Kind.TITLE in before or Kind.INITIALS in before or Kind.PARTICLE in before:
            roles = [Role.SURNAME]  # "Mr. Salazar", "C. Salazar", "de la Cruz"
        else:
            roles = [_lone_role(toks[first_word].folded, lists)]
    else:
        particle = next((i for i, t in enumerate(toks) if t.kind is Kind.PARTICLE), None)
        cut = groups[-1][0] if particle is None else particle
        roles = [Role.SURNAME if g[0] >= cut else Role.GIVEN for g in groups]
        if all(r is Role.SURNAME for r in roles) and particle is not None and particle > 0:
            roles[0] = Role.GIVEN
    for g, role in zip(groups, roles, strict=True):
        for i in g:
            toks[i].role = role


class NameSurrogates:
    """Name surrogates for one (key, scope); the part cache is only a speed-up (pure mapping)."""

    def __init__(self, keyed: Keyed) -> None:
        self._keyed = keyed
        self._lists = pools()
        self._letters: dict[str, str] = {}  # built on first use: most scopes have few names
        self._parts: dict[tuple[Role, str], str] = {}

    def _letter_map(self) -> dict[str, str]:
        targets = list(TARGET_LETTERS)
        draws = self._keyed.draws("letters", "", size=8 * 26)
        for i in range(len(targets) - 1, 0, -1):  # Sattolo: one cycle, so no letter maps to itself
            j = draws.below(i)
            targets[i], targets[j] = targets[j], targets[i]
        out = dict(zip(TARGET_LETTERS, targets, strict=True))
        for c in "abcdefghijklmnopqrstuvwxyz":
            if c not in out:  # a rare initial maps into the target letters (never itself)
                out[c] = draws.choice(TARGET_LETTERS)
        return out

    def letter(self, c: str) -> str:
        """The surrogate initial (lower case) for one letter."""
        if not self._letters:
            self._letters = self._letter_map()
        low = fold(c)[:1] or c.lower()
        mapped = self._letters.get(low)
        if mapped is None:  # a letter outside a-z: a keyed pick among the target initials
            mapped = self._keyed.draws("letter", low).choice(TARGET_LETTERS)
            self._letters[low] = mapped
        return mapped

    def part(self, role: Role, folded: str, attempt: int = 0) -> str:
        """The lower-case surrogate of one name word in one role."""
        key = (role, folded)
        if attempt == 0 and (hit := self._parts.get(key)) is not None:
            return hit
        lists = self._lists
        initial = self.letter(folded[:1])
        if role is Role.SURNAME:
            pool = lists.surnames[initial]
        else:
            sex = lists.gender.get(folded)
            pool = (lists.female if sex == "F" else lists.male if sex == "M" else lists.given_any)[
                initial
            ]
        out = self._keyed.draws(role.value, folded, attempt).choice(pool)
        if attempt == 0:
            if len(self._parts) >= _CACHE_LIMIT:
                self._parts.clear()
            self._parts[key] = out
        return out

    def word(self, text: str) -> str:
        """A lone name word (an email's "carlos"): its role by list rank, its case kept."""
        folded = fold(text)
        return apply_case(self.part(_lone_role(folded, self._lists), folded), case_of(text))

    def surrogate(self, value: str) -> str | None:
        toks = _tokens(value)
        _classify(value, toks, self._lists)
        if not any(t.kind in (Kind.WORD, Kind.INITIALS) for t in toks):
            return None  # only titles or credentials: nothing to stand in for
        _assign_roles(value, toks, self._lists)
        originals = {t.folded for t in toks if len(t.folded) > 1}
        pieces: list[str] = []
        pos = 0
        for t in toks:
            pieces.append(value[pos : t.start])
            pieces.append(self._render(t, originals))
            pos = t.end
        pieces.append(value[pos:])
        return "".join(pieces)

    def _render(self, t: _Tok, originals: set[str]) -> str:
        if t.kind is Kind.INITIALS:
            return "".join(
                apply_case(self.letter(c), case_of(c)) if c.isalpha() else c for c in t.text
            )
        if t.kind is not Kind.WORD:
            return t.text
        out = self.part(t.role, t.folded)
        attempt = 0
        while out in originals and attempt < _MAX_ATTEMPTS:
            attempt += 1
            out = self.part(t.role, t.folded, attempt)
        return apply_case(out, case_of(t.text))
