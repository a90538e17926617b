"""Default locations: one directory (PHIGUARD_HOME, default ~/.phiguard) holds vault and key."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("PHIGUARD_HOME") or Path.home() / ".phiguard")


def default_vault_path() -> Path:
    return home() / "vault.db"


def default_key_path() -> Path:
    return home() / "key"
