"""Vaults are chosen by name from a registry; each backend lives in its own module, imported
on demand (the DynamoDB one needs pynamodb)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from phiguard import paths
from phiguard.errors import ConfigError
from phiguard.vaults.base import (
    AuditLog,
    AuditRecord,
    BaseVault,
    Capability,
    KeyStore,
    Vault,
    VaultRecord,
    WrappedKey,
)


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """Everything `open_vault` was given; each backend takes the fields it knows."""

    path: str | Path | None = None
    table: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    create: bool = True


def _sqlite(o: StoreOptions) -> Vault:
    from phiguard.vaults.sqlite import SQLiteVault

    return SQLiteVault(o.path or paths.default_vault_path(), create=o.create)


def _dynamodb(o: StoreOptions) -> Vault:
    from phiguard.vaults.dynamodb.vault import DEFAULT_TABLE, DynamoDBVault

    return DynamoDBVault(
        table=o.table or DEFAULT_TABLE,
        region=o.region,
        endpoint_url=o.endpoint_url,
        profile=o.profile,
    )


def _memory(o: StoreOptions) -> Vault:
    from phiguard.vaults.memory import MemoryVault

    return MemoryVault()


#: Store name -> opener. The first is the default.
REGISTRY: dict[str, Callable[[StoreOptions], Vault]] = {
    "sqlite": _sqlite,
    "dynamodb": _dynamodb,
    "memory": _memory,
}
STORES = tuple(REGISTRY)


def open_vault(
    store: str = "sqlite",
    *,
    path: str | Path | None = None,
    table: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    create: bool = True,
) -> Vault:
    """Open the vault called `store`. Readers pass `create=False` so a typo is an error."""
    opener = REGISTRY.get(store)
    if opener is None:
        raise ConfigError(f"unknown store {store!r}; choose one of: {', '.join(STORES)}")
    return opener(StoreOptions(path, table, region, endpoint_url, profile, create))


__all__ = [
    "REGISTRY",
    "STORES",
    "AuditLog",
    "AuditRecord",
    "BaseVault",
    "Capability",
    "KeyStore",
    "StoreOptions",
    "Vault",
    "VaultRecord",
    "WrappedKey",
    "open_vault",
]
