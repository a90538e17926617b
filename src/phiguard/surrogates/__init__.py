"""Realistic surrogates and per-patient date shifting (issue 12's generators).

`Surrogates(key, scope=..., date_shift=DateShift(...))` and its `surrogate(value, phi_type)` are
what the transform engine calls; `Scopes` picks a note's (per note, per patient, or one for the
run); `date_offset` gives a patient's (or a lone note's) keyed shift. Nothing here reads files
per call or keeps global random state; see docs/surrogates.md for the algorithms and the
privacy trade-off.
"""

from phiguard.surrogates.dates import DEFAULT_REFERENCE, DateShift, shift_date
from phiguard.surrogates.engine import Surrogates
from phiguard.surrogates.offsets import DEFAULT_MAX_DAYS, DEFAULT_MIN_DAYS, OffsetKind, date_offset
from phiguard.surrogates.scopes import Scopes

__all__ = [
    "DEFAULT_MAX_DAYS",
    "DEFAULT_MIN_DAYS",
    "DEFAULT_REFERENCE",
    "DateShift",
    "OffsetKind",
    "Scopes",
    "Surrogates",
    "date_offset",
    "shift_date",
]
