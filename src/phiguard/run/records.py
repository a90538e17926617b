"""What flows through a batch: an input `Item` in, one `Result` per item out, in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from phiguard.errors import Failure
from phiguard.known import KnownPhi
from phiguard.spans import Span

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Item:
    """One input record: `id` names it in results (never log the text)."""

    id: Any
    text: str
    context: Any = None  # carried untouched to the Result (e.g. the rest of a JSONL row)
    message_hash: str | None = None  # reid: the vault key of this text, when it travelled with it
    known: KnownPhi | None = None  # PHI the caller holds for this record (its patient's name...)
    patient: str | None = None  # surrogates: the patient whose scope and date offset apply


#: What the batch functions accept: a plain string (its id is its 0-based position),
#: an `(id, text)` pair, or an `Item`.
BatchInput = str | tuple[Any, str] | Item


def as_item(index: int, x: BatchInput) -> Item:
    if isinstance(x, Item):
        return x
    if isinstance(x, str):
        return Item(index, x)
    return Item(x[0], x[1])


@dataclass(frozen=True, slots=True)
class DeidResult:
    """A de-identified note: its text, the vault key of its mapping, the spans tokenized."""

    text: str
    message_hash: str
    spans: tuple[Span, ...]

    @property
    def token_count(self) -> int:
        return len(self.spans)


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """The outcome for one input, in input order: `value` or `error`, never both."""

    index: int
    id: Any
    value: T | None
    error: Failure | None = None
    spans: tuple[Span, ...] = ()
    context: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> T:
        """The value, or the record's error (its own class: DetectionError, VaultError...)."""
        if self.error is not None:
            err = self.error.error()
            raise type(err)(f"record {self.id}: {self.error}")
        if self.value is None:  # pragma: no cover - a Result always has one of the two
            raise ValueError(f"record {self.id} has no value")
        return self.value
