"""The streaming batch machinery across worker processes: order, per-record failures,
bounded read-ahead, one detector per worker process, consistent pseudonyms.

A tiny picklable detector stands in for the model where the thing under test is the
batch machinery; one test runs the real local detector in worker processes. The one-process
side (fail-closed vault writes, grouping, rate limiting) is in tests/unit/test_batch.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from phiguard import Deidentifier, DetectionError, DetectorConfig, Sealer
from phiguard.errors import ConfigError
from phiguard.keys.files import generate_key
from phiguard.run import batch
from phiguard.spans import Span
from phiguard.vaults.memory import MemoryVault
from support.data import invented_notes
from support.detectors import WordDetector, word_notes


class PidDetector(WordDetector):
    """Tags each span with the process and detector instance that found it."""

    def detect(self, text: str) -> list[Span]:
        tag = f"{os.getpid()}:{id(self)}"
        return [Span(s.start, s.end, s.type, s.score, tag) for s in super().detect(text)]


@pytest.fixture()
def deid() -> Deidentifier:
    return Deidentifier(WordDetector(), vault=MemoryVault(), sealer=Sealer(generate_key()))


def test_order_kept_with_two_workers(deid: Deidentifier) -> None:
    notes = word_notes(300)
    items = [(f"r{i}", t) for i, t in enumerate(notes)]
    out = list(batch.mask_many(items, deid, workers=2, chunk_size=7, max_in_flight=40))
    assert [r.id for r in out] == [f"r{i}" for i in range(300)]
    assert [r.index for r in out] == list(range(300))
    assert [r.value for r in out] == [deid.mask(t) for t in notes]
    results = list(deid.deidentify_many(items, workers=2, chunk_size=5, vault_batch=16))
    assert [r.id for r in results] == [f"r{i}" for i in range(300)]
    assert [deid.reidentify(r.unwrap().text) for r in results] == notes


@pytest.mark.parametrize("workers", [1, 2])
def test_failing_record_reported_without_phi_others_processed(
    deid: Deidentifier, workers: int
) -> None:
    notes = word_notes(20)
    notes[3] = "BOOM for Carol Smith"
    notes[11] = "CRASH for Dana Jones"
    results = list(
        deid.deidentify_many(((f"id{i}", t) for i, t in enumerate(notes)), workers=workers)
    )
    assert len(results) == 20
    bad = {r.id: str(r.error) for r in results if not r.ok}
    assert set(bad) == {"id3", "id11"}
    assert bad["id3"] == "DetectionError: test detector refused this note"
    assert bad["id11"].startswith("ValueError")
    for reason in bad.values():
        assert "Carol" not in reason and "Dana" not in reason
    good = [r for r in results if r.ok]
    assert [deid.reidentify(r.unwrap().text) for r in good] == [
        t for i, t in enumerate(notes) if i not in (3, 11)
    ]
    with pytest.raises(Exception, match="id3"):
        results[3].unwrap()


def test_each_result_is_yielded_after_its_rows_are_committed() -> None:
    vault = MemoryVault()
    d = Deidentifier(WordDetector(), vault=vault, sealer=Sealer(generate_key()))
    for r in d.deidentify_many(word_notes(50), workers=2, vault_batch=8):
        res = r.unwrap()
        assert len(vault.get(res.message_hash)) == res.token_count > 0


@pytest.mark.parametrize(("workers", "fn"), [(1, "mask"), (2, "mask"), (2, "deid")])
def test_input_is_consumed_lazily_within_the_window(
    deid: Deidentifier, workers: int, fn: str
) -> None:
    consumed = 0

    def source() -> Iterator[str]:
        nonlocal consumed
        for i in range(100_000):
            consumed += 1
            yield f"Zed {i}"

    window, chunk, group = 24, 4, 8
    opts: dict[str, Any] = {"workers": workers, "chunk_size": chunk, "max_in_flight": window}
    gen: Iterator[Any] = (
        deid.mask_many(source(), **opts)
        if fn == "mask"
        else deid.deidentify_many(source(), vault_batch=group, **opts)
    )
    bound = (chunk if workers == 1 else window) + (group if fn == "deid" else 0)
    for taken, r in enumerate(gen, 1):
        assert r.ok
        assert consumed - taken <= bound
        if taken == 500:
            break
    gen.close()  # type: ignore[attr-defined]
    assert consumed < 500 + bound + 1


def test_one_detector_per_worker_process(deid: Deidentifier) -> None:
    d = Deidentifier(PidDetector())
    tags = {
        s.source
        for r in batch.detect_many(word_notes(200), d, workers=2, chunk_size=3)
        for s in r.unwrap()
    }
    pids = {t.split(":")[0] for t in tags}
    assert len(tags) == len(pids) <= 2 and str(os.getpid()) not in pids


def test_a_detector_that_cannot_be_built_fails_before_any_result() -> None:
    d = Deidentifier(DetectorConfig.of("local", model="no_such_spacy_model"))
    with pytest.raises(DetectionError, match="not installed"):
        next(batch.mask_many(["Carlos"], d, workers=2))


def test_unpicklable_detector_with_workers_is_a_config_error() -> None:
    class Local(WordDetector):  # defined in a function: cannot be pickled
        pass

    d = Deidentifier(Local())
    with pytest.raises(ConfigError, match="backend name"):
        next(d.mask_many(["x"], workers=2))


def _local_available() -> bool:
    try:
        import phiguard.detectors.local.detector  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _local_available(), reason="local detector not installed")
def test_real_local_detector_in_two_workers_matches_serial() -> None:
    d = Deidentifier("local")
    notes = [str(n["text"]) for n in invented_notes()]
    parallel = [r.unwrap() for r in d.mask_many(notes, workers=2)]
    assert parallel == [d.mask(t) for t in notes]
    assert json.dumps(parallel)  # plain strings, nothing exotic


def test_deidentify_many_uses_the_deidentifiers_tokenizer() -> None:
    """Consistent pseudonyms (same value, same token) hold in batches too."""
    from phiguard.keys.pseudonym import Pseudonymizer

    d = Deidentifier(WordDetector(), vault=MemoryVault(), sealer=Sealer(generate_key()))
    d.pseudonymizer = Pseudonymizer(generate_key())
    single = d.deidentify("Alice saw Bob").text
    batched = [r.unwrap().text for r in d.deidentify_many(["Alice saw Bob", "Bob"], workers=2)]
    assert batched[0] == single and batched[1] == single.split(" ")[-1]
