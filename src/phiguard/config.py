"""One description of a pipeline: the CLI builds it from options, worker processes and Spark
executors rebuild the pipeline from it.

Frozen, hashable and picklable, and it holds no secret and no open resource: a key is named by
where it comes from (a key file, `PHIGUARD_KEY`, a KMS key id), never carried, so a `Config` can
travel with a Spark task or into a worker process safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from phiguard.errors import ConfigError
from phiguard.resolve import Resolver
from phiguard.transform import Policy

DEFAULT_TABLE = "phiguard-vault"


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """A backend name and its options, as `phiguard.detectors.get_detector` takes them."""

    backend: str = "local"
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, backend: str = "local", **options: Any) -> DetectorConfig:
        """Options left at None are dropped, so they take the backend's defaults."""
        return cls(backend, tuple(sorted((k, v) for k, v in options.items() if v is not None)))

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.options)


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Which vault, as `phiguard.vaults.open_vault` takes it; `region`/`profile` also serve KMS
    and STS (one AWS identity per run)."""

    store: str = "sqlite"
    path: str | None = None
    table: str = DEFAULT_TABLE
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class KeyConfig:
    """Where the vault key comes from: `key_file`, else $PHIGUARD_KEY, else the default key
    file; writers with `kms_key_id` seal with a fresh KMS data key instead. `consistent` turns on
    consistent pseudonyms (same value, same token) and one surrogate mapping for all notes."""

    key_file: str | None = None
    kms_key_id: str | None = None
    consistent: bool = False


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How records are scheduled; the defaults suit clinical notes of a few KB.

    `workers`: detection processes for a CPU-bound detector, concurrent requests for an
    I/O-bound one. `chunk_size`: records per worker task. `max_in_flight` and
    `max_in_flight_chars`: records (and characters) read ahead of the consumer, the memory bound.
    `max_tps` and `max_cps`: service requests and characters per second (Comprehend DetectPHI;
    None is the default quota, 100 and 40,000, see phiguard.run.limits). `vault_batch` and
    `max_delay`: records per vault write and the longest a finished record waits for its group.
    `mp_context`: multiprocessing start method (default fork on POSIX).
    """

    workers: int = 1
    chunk_size: int = 16
    max_in_flight: int = 256
    max_in_flight_chars: int = 64_000_000
    max_tps: float | None = None
    max_cps: float | None = None
    vault_batch: int = 64
    max_delay: float = 1.0
    mp_context: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 1 or self.chunk_size < 1 or self.max_in_flight < 1:
            raise ConfigError("workers, chunk_size and max_in_flight must be at least 1")
        if self.vault_batch < 1:
            raise ConfigError("vault_batch must be at least 1")
        if self.max_tps is not None and self.max_tps <= 0:
            raise ConfigError(f"max_tps must be positive, got {self.max_tps}")
        if self.max_cps is not None and self.max_cps <= 0:
            raise ConfigError(f"max_cps must be positive, got {self.max_cps}")


@dataclass(frozen=True, slots=True)
class Config:
    """The whole pipeline: detector, resolver, vault, keys and scheduling, and `policy`, what
    each PHI type becomes (None: the preset of whatever is called, e.g. tokens for deid)."""

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    resolver: Resolver = field(default_factory=Resolver)
    store: StoreConfig = field(default_factory=StoreConfig)
    keys: KeyConfig = field(default_factory=KeyConfig)
    run: RunOptions = field(default_factory=RunOptions)
    policy: Policy | None = None

    def with_run(self, **changes: Any) -> Config:
        """This config with some scheduling options changed."""
        return replace(self, run=replace(self.run, **changes))
