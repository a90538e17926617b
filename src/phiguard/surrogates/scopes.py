"""Which `Surrogates` a note uses: its consistency scope and its date offset.

- With a patient id: scope `patient:<id>` and the patient's keyed offset, so one name maps to
  one surrogate and every date moves by the same days across all of that patient's notes.
- `consistent`: names and places share the scope `run` across all notes (and later runs with
  the same key); dates still move per patient, or by one offset for the whole run when the
  note has no patient id.
- Otherwise, per note: the scope and offset come from the SHA3-256 of the note's text, so a
  re-run of the same note writes the same output (idempotent vault rows, see
  phiguard.keys.mapping) and two different notes are independent.

Everything is a pure function of (key, scope): the cache below only saves re-building the
per-scope caches of a patient's next note.
"""

from __future__ import annotations

import hashlib

from phiguard.surrogates.dates import DateShift
from phiguard.surrogates.engine import Surrogates
from phiguard.surrogates.keyed import check_key
from phiguard.surrogates.offsets import DEFAULT_MAX_DAYS, DEFAULT_MIN_DAYS

_MAX_SCOPES = 4096
_RUN = "run"


class Scopes:
    """The `Surrogates` of each note of a run, from one key and the date-shift settings."""

    def __init__(
        self,
        key: bytes,
        *,
        consistent: bool = False,
        min_days: int = DEFAULT_MIN_DAYS,
        max_days: int = DEFAULT_MAX_DAYS,
        keep_weekday: bool = False,
        day_first: bool = False,
    ) -> None:
        check_key(key)
        self._key = bytes(key)
        self.consistent = consistent
        self._range = (min_days, max_days)
        self._keep_weekday = keep_weekday
        self._day_first = day_first
        self._cache: dict[str, Surrogates] = {}

    def _shift(self, ident: str, kind: str) -> DateShift:
        return DateShift.keyed(
            self._key,
            ident,
            kind="patient" if kind == "patient" else "note",
            min_days=self._range[0],
            max_days=self._range[1],
            keep_weekday=self._keep_weekday,
            day_first=self._day_first,
        )

    def for_note(self, text: str, patient: str | None = None) -> Surrogates:
        """The surrogates for a note of `patient` (None: a note on its own)."""
        if patient is not None:
            cache_key = f"patient:{patient}"
            scope = _RUN if self.consistent else cache_key
        elif self.consistent:
            cache_key = scope = _RUN
        else:  # a lone note: nothing to share, so nothing to cache
            ident = hashlib.sha3_256(text.encode("utf-8", "surrogatepass")).hexdigest()
            return Surrogates(
                self._key, scope=f"note:{ident}", date_shift=self._shift(ident, "note")
            )
        found = self._cache.get(cache_key)
        if found is None:
            # one offset per patient; under `consistent` without a patient, one for the run
            # (the note domain with an empty id: no note's text hash is empty)
            shift = (
                self._shift(patient, "patient") if patient is not None else self._shift("", "note")
            )
            if len(self._cache) >= _MAX_SCOPES:
                self._cache.clear()
            found = self._cache[cache_key] = Surrogates(self._key, scope=scope, date_shift=shift)
        return found

    def __repr__(self) -> str:  # never the key
        return f"Scopes(<key>, consistent={self.consistent})"
