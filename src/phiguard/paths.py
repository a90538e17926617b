"""Default locations: one directory (PHIGUARD_HOME, default ~/.phiguard) holds vault, key and
run journals."""

from __future__ import annotations

import os
from pathlib import Path

from phiguard.errors import ConfigError


def home() -> Path:
    """$PHIGUARD_HOME, else ~/.phiguard. Set but empty is refused: silently falling back to
    the home directory would put a vault and a key where nobody meant them to be."""
    value = os.environ.get("PHIGUARD_HOME")
    if value is None:
        return Path.home() / ".phiguard"
    if not value.strip():
        raise ConfigError("PHIGUARD_HOME is set but empty; unset it or name a directory")
    return Path(value)


def default_vault_path() -> Path:
    return home() / "vault.db"


def default_key_path() -> Path:
    return home() / "key"
