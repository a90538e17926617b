"""Per-patient date offsets: a keyed HMAC of the patient id, so there is no table to lose.

offset = the HMAC-SHA256(key, "phiguard/date-offset/v1", kind, id) as an integer, reduced
modulo the number of allowed offsets (bias below 2**-200): uniform over [min_days, max_days]
without 0, or over its non-zero multiples of 7 with keep_weekday. The same patient gets the
same offset for the same key in every process and every later run; a patient's intervals are
exact because every date of theirs moves by the same number of days. Without the key the
offset cannot be computed from the id, so the shift cannot be undone by guessing.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from phiguard.surrogates.keyed import check_key, frame, utf8

OffsetKind = Literal["patient", "note"]

DEFAULT_MIN_DAYS = -365
DEFAULT_MAX_DAYS = -1
_DOMAIN = b"phiguard/date-offset/v1"


def _choose(digest: bytes, min_days: int, max_days: int, step: int) -> int:
    """The digest mapped uniformly onto the multiples of `step` in [min, max] other than 0."""
    if min_days > max_days:
        raise ValueError(f"date shift range {min_days}:{max_days} is empty")
    lo = -((-min_days) // step)  # ceil(min / step)
    hi = max_days // step
    count = hi - lo + 1 - (1 if lo <= 0 <= hi else 0)
    if count <= 0:
        raise ValueError(f"date shift range {min_days}:{max_days} has no non-zero offset")
    k = lo + int.from_bytes(digest, "big") % count
    if lo <= 0 <= k:
        k += 1  # skip 0
    return k * step


def date_offset(
    key: bytes,
    patient_id: str,
    min_days: int = DEFAULT_MIN_DAYS,
    max_days: int = DEFAULT_MAX_DAYS,
    *,
    keep_weekday: bool = False,
    kind: OffsetKind = "patient",
) -> int:
    """The patient's shift in days: never 0; a multiple of 7 with `keep_weekday`.

    `kind="note"`: the shift of a note with no patient id, from its id (or a salt the caller
    keeps); a separate HMAC domain, so a note id never gives an equal patient id's offset."""
    check_key(key)
    digest = hmac.new(bytes(key), frame(_DOMAIN, utf8(kind), utf8(patient_id)), hashlib.sha256)
    return _choose(digest.digest(), min_days, max_days, 7 if keep_weekday else 1)
