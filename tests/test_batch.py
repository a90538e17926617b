"""The streaming batch machinery: order, per-record failures, fail-closed vault writes,
bounded read-ahead, one detector per worker process, rate limiting.

A tiny picklable detector stands in for the model where the thing under test is the
batch machinery; one test runs the real local detector in worker processes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from phiguard import Deidentifier, DetectionError, DetectorConfig, Sealer, VaultError
from phiguard.detectors import BaseDetector, Capabilities
from phiguard.errors import ConfigError
from phiguard.keys.files import generate_key
from phiguard.run import batch
from phiguard.run.records import BatchInput, Item
from phiguard.spans import Span
from phiguard.vaults.base import VaultRecord
from phiguard.vaults.memory import MemoryVault

_WORD = re.compile(r"[A-Z][a-z]+|MRN\d+")


class WordDetector(BaseDetector):
    """Capitalized words are NAMEs, MRN<digits> are IDs; 'BOOM' fails, 'CRASH' raises an
    unexpected error whose message quotes the note (it must never be reported)."""

    name = "words"

    def detect(self, text: str) -> list[Span]:
        if "BOOM" in text:
            raise DetectionError("test detector refused this note")
        if "CRASH" in text:
            raise ValueError(f"cannot parse {text!r}")
        return [
            Span(m.start(), m.end(), "ID" if m.group().startswith("MRN") else "NAME", 1.0, "w")
            for m in _WORD.finditer(text)
        ]


class PidDetector(WordDetector):
    """Tags each span with the process and detector instance that found it."""

    def detect(self, text: str) -> list[Span]:
        tag = f"{os.getpid()}:{id(self)}"
        return [Span(s.start, s.end, s.type, s.score, tag) for s in super().detect(text)]


class PoisonVault(MemoryVault):
    """Refuses any write that holds an ID row; counts calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def put(self, records: Sequence[VaultRecord]) -> None:
        self.calls.append(len(records))
        if any(r.type == "ID" for r in records):
            raise VaultError("test vault refuses ID rows")
        super().put(records)


def _notes(n: int) -> list[str]:
    return [f"note {i}: Alice met Bob on day {i}." for i in range(n)]


@pytest.fixture()
def deid() -> Deidentifier:
    return Deidentifier(WordDetector(), vault=MemoryVault(), sealer=Sealer(generate_key()))


def test_order_kept_with_two_workers(deid: Deidentifier) -> None:
    notes = _notes(300)
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
    notes = _notes(20)
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


def test_a_vault_failure_stops_the_run_and_releases_nothing_unstored() -> None:
    vault = PoisonVault()
    d = Deidentifier(WordDetector(), vault=vault, sealer=Sealer(generate_key()))
    notes = _notes(30)
    notes[17] = "Eve has MRN12345"
    released = []
    with pytest.raises(VaultError, match="refuses ID rows"):
        for r in d.deidentify_many(notes, vault_batch=8, max_delay=60):
            released.append(r.unwrap())
    # the groups before the failing one were stored and released, nothing after it
    assert len(released) == 16 and len(vault.calls) == 3
    assert [d.reidentify(r.text) for r in released] == notes[:16]


def test_nothing_released_when_the_vault_is_down() -> None:
    class DownVault(MemoryVault):
        def put(self, records: Sequence[VaultRecord]) -> None:
            raise VaultError("vault unreachable")

    d = Deidentifier(WordDetector(), vault=DownVault(), sealer=Sealer(generate_key()))
    released = []
    with pytest.raises(VaultError, match="vault unreachable"):
        released.extend(d.deidentify_many(_notes(5)))
    assert released == []


def test_each_result_is_yielded_after_its_rows_are_committed() -> None:
    vault = MemoryVault()
    d = Deidentifier(WordDetector(), vault=vault, sealer=Sealer(generate_key()))
    for r in d.deidentify_many(_notes(50), workers=2, vault_batch=8):
        res = r.unwrap()
        assert len(vault.get(res.message_hash)) == res.token_count > 0


def test_vault_writes_are_grouped() -> None:
    vault = PoisonVault()
    d = Deidentifier(WordDetector(), vault=vault, sealer=Sealer(generate_key()))
    assert all(r.ok for r in d.deidentify_many(_notes(100), vault_batch=50, max_delay=60))
    assert len(vault.calls) == 2


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
    tags = {
        s.source
        for r in batch.detect_many(
            _notes(200), Deidentifier(PidDetector()), workers=2, chunk_size=3
        )
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


def test_items_and_contexts_and_empty_texts(deid: Deidentifier) -> None:
    items: list[BatchInput] = [Item("a", "Alice", {"row": 1}), ("b", ""), "Bob"]
    out = list(deid.deidentify_many(items))
    assert [r.id for r in out] == ["a", "b", 2]
    assert out[0].context == {"row": 1} and out[1].unwrap().text == ""
    spans = [r.unwrap() for r in deid.detect_many(["Alice and Bob", ""])]
    assert [len(s) for s in spans] == [2, 0]


def test_io_bound_backend_runs_in_threads_in_order() -> None:
    class FakeComprehend(WordDetector):
        name = "comprehend"
        capabilities = Capabilities(batching=False, max_request_bytes=20_000, io_bound=True)

    d = Deidentifier(FakeComprehend())
    notes = _notes(60)
    out = list(d.mask_many(notes, workers=8, max_tps=10_000))
    assert [r.value for r in out] == [d.mask(t) for t in notes]


def _local_available() -> bool:
    try:
        import phiguard.detectors.local.detector  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _local_available(), reason="local detector not installed")
def test_real_local_detector_in_two_workers_matches_serial(
    dev_notes: list[dict[str, Any]],
) -> None:
    d = Deidentifier("local")
    notes = [str(n["text"]) for n in dev_notes[:40]]
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
