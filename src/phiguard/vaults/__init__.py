"""Vaults are chosen by name; each backend lives in its own module, imported on demand."""

from __future__ import annotations

from pathlib import Path

from phiguard import paths
from phiguard.errors import ConfigError
from phiguard.vaults.base import Vault, VaultRecord

STORES = ("sqlite", "dynamodb", "memory")


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
    if store == "sqlite":
        from phiguard.vaults.sqlite import SQLiteVault

        return SQLiteVault(path or paths.default_vault_path(), create=create)
    if store == "dynamodb":
        from phiguard.vaults.dynamodb.vault import DynamoDBVault

        return DynamoDBVault(
            table=table or "phiguard-vault",
            region=region,
            endpoint_url=endpoint_url,
            profile=profile,
        )
    if store == "memory":
        from phiguard.vaults.memory import MemoryVault

        return MemoryVault()
    raise ConfigError(f"unknown store {store!r}; choose one of: {', '.join(STORES)}")


__all__ = ["STORES", "Vault", "VaultRecord", "open_vault"]
