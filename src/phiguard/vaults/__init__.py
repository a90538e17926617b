"""Vaults are chosen by name from a registry; each backend lives in its own module, imported
on demand (the DynamoDB one needs pynamodb)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from phiguard import paths
from phiguard.config import DEFAULT_TABLE, StoreConfig
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


def _sqlite(o: StoreConfig, create: bool) -> Vault:
    from phiguard.vaults.sqlite import SQLiteVault

    return SQLiteVault(o.path or paths.default_vault_path(), create=create)


def _dynamodb(o: StoreConfig, create: bool) -> Vault:
    from phiguard.vaults.dynamodb.vault import DynamoDBVault

    return DynamoDBVault(
        table=o.table or DEFAULT_TABLE,
        region=o.region,
        endpoint_url=o.endpoint_url,
        profile=o.profile,
    )


def _memory(o: StoreConfig, create: bool) -> Vault:
    from phiguard.vaults.memory import MemoryVault

    return MemoryVault()


#: Store name -> opener (the store's settings, and whether it may be created). The first is the
#: default.
REGISTRY: dict[str, Callable[[StoreConfig, bool], Vault]] = {
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
    config = StoreConfig(
        store,
        path=None if path is None else str(path),
        table=table or DEFAULT_TABLE,
        region=region,
        endpoint_url=endpoint_url,
        profile=profile,
    )
    return open_store(config, create=create)


def open_store(config: StoreConfig, *, create: bool = True) -> Vault:
    """Open the vault `config` describes (the `store` part of a `phiguard.Config`)."""
    opener = REGISTRY.get(config.store)
    if opener is None:
        raise ConfigError(f"unknown store {config.store!r}; choose one of: {', '.join(STORES)}")
    return opener(config, create)


__all__ = [
    "REGISTRY",
    "STORES",
    "AuditLog",
    "AuditRecord",
    "BaseVault",
    "Capability",
    "KeyStore",
    "Vault",
    "VaultRecord",
    "WrappedKey",
    "open_store",
    "open_vault",
]
