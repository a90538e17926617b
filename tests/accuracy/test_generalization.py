"""Generalization check: the local detector on synthetic notes it was not tuned on.

tests/data/synthetic_notes.jsonl is made by tools/synth_notes.py (see
docs/generalization.md): nursing-note-style texts with PHI from Faker and hand lists, none of
it taken from the dev notes. The slow test runs the detector over it the way `phiguard eval`
does and fails if token recall drops below RECALL_FLOOR; the generator and the committed file
are checked in tests/unit/test_shipped_notes.py. It needs no ../shared.
"""

from __future__ import annotations

import pytest

from support.data import SYNTHETIC_NOTES

# Token recall the detector must keep on the synthetic set (docs/generalization.md). Measured
# 2026-11-24: dev 0.987, dev with fresh names/places 0.921, this set 0.780. The project target
# is 0.98 on held-out real notes; this set over-represents hard forms (bare first names,
# initials, "LAST, FIRST", bare towns, pagers, month/year dates), so it scores below real notes,
# but 0.90 is the least a detector that generalizes should reach here. It is deliberately not
# "today's value minus a margin" (a regression guard): it fails until the miss patterns in the
# doc are fixed; then raise it to the measured value minus ~0.02 (seed-to-seed spread ~0.015).
# Raised 2026-11-24 22:45 UTC: this set measured 0.967 (dev 0.992, dev re-surrogated 0.994 at
# seed 20261124 and 0.979-0.983 at seeds not used for tuning), so the floor is 0.967 - 0.02.
RECALL_FLOOR = 0.947


@pytest.mark.slow
def test_local_detector_generalizes_to_synthetic_notes() -> None:
    from phiguard.evaluation import evaluate, load_gold
    from phiguard.resolve import Resolver
    from phiguard.run.deidentifier import Deidentifier

    gold = load_gold(SYNTHETIC_NOTES)
    d = Deidentifier("local", resolver=Resolver(), detector_options={"age_policy": "over89"})
    report = evaluate(gold, d.detector, d.resolver)
    token = report.levels["token"]
    recall = token.overall.recall
    assert recall is not None
    per_label = ", ".join(
        f"{label} {sc.recall:.3f}" for label, sc in sorted(token.by_label.items()) if sc.recall
    )
    assert recall >= RECALL_FLOOR, (
        f"token recall {recall:.4f} on synthetic notes < floor {RECALL_FLOOR} ({per_label}); "
        "run tools/score_synthetic.py for the miss patterns"
    )
