"""The streaming batch machinery in one process: per-record order and contexts, fail-closed
vault writes, grouped commits, rate limiting, I/O-bound backends in threads.

The worker-process side (order across workers, one detector per process, bounded read-ahead)
is in tests/integration/test_batch.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from phiguard import Deidentifier, Sealer, VaultError
from phiguard.detectors import Capabilities
from phiguard.keys.files import generate_key
from phiguard.run.records import BatchInput, Item
from phiguard.vaults.base import VaultRecord
from phiguard.vaults.memory import MemoryVault
from support.detectors import WordDetector, word_notes


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


@pytest.fixture()
def deid() -> Deidentifier:
    return Deidentifier(WordDetector(), vault=MemoryVault(), sealer=Sealer(generate_key()))


def test_a_vault_failure_stops_the_run_and_releases_nothing_unstored() -> None:
    vault = PoisonVault()
    d = Deidentifier(WordDetector(), vault=vault, sealer=Sealer(generate_key()))
    notes = word_notes(30)
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
        released.extend(d.deidentify_many(word_notes(5)))
    assert released == []


def test_vault_writes_are_grouped() -> None:
    vault = PoisonVault()
    d = Deidentifier(WordDetector(), vault=vault, sealer=Sealer(generate_key()))
    assert all(r.ok for r in d.deidentify_many(word_notes(100), vault_batch=50, max_delay=60))
    assert len(vault.calls) == 2


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
    notes = word_notes(60)
    out = list(d.mask_many(notes, workers=8, max_tps=10_000))
    assert [r.value for r in out] == [d.mask(t) for t in notes]
