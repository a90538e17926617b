"""The API key file: key names, scopes and SHA-256 hashes; never a key itself.

A key is 32 random bytes (`phg_` + URL-safe base64), shown once by `phiguard api-key add`.
Only its SHA-256 is kept: a fast hash is enough for 256-bit random secrets (there is no
dictionary to try), and lets every request be checked against every key in constant time.
The file is JSON, mode 0600, replaced atomically, and re-read by a running server when it
changes, so `api-key revoke` takes effect without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from phiguard import paths
from phiguard.errors import ConfigError, InputError

#: Every scope a key or token can hold; each endpoint needs exactly one of them.
SCOPES = ("detect", "mask", "deid", "surrogate", "reid", "audit")
PREFIX = "phg_"
FILE_VERSION = 1
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def default_path() -> Path:
    return paths.home() / "api-keys.json"


def digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated (or listed) scope names, checked and in canonical order."""
    names = text.split(",") if isinstance(text, str) else list(text)
    wanted = {n.strip().lower() for n in names if n.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ConfigError(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    if not wanted:
        raise ConfigError(f"give at least one scope: {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in wanted)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One entry of the file: a name (the audit actor), its scopes, the hash of the key."""

    name: str
    scopes: tuple[str, ...]
    hash: str
    created: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scopes": list(self.scopes),
            "hash": self.hash,
            "created": self.created,
        }


def load(path: Path) -> list[ApiKey]:
    """The keys in `path`; InputError (one line, no key material) if it is not a key file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"API key file {path} not found: create one with `phiguard api-key add`"
        ) from None
    except OSError as exc:
        raise InputError(f"API key file {path}: cannot read ({exc.strerror})") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
        if doc.get("version") != FILE_VERSION:
            raise ValueError("version")
        keys = [
            ApiKey(e["name"], parse_scopes(e["scopes"]), e["hash"], e.get("created", ""))
            for e in doc["keys"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, ConfigError):
        raise InputError(f"API key file {path} is not a phiguard API key file") from None
    if any(not k.hash.startswith("sha256:") for k in keys):
        raise InputError(f"API key file {path} holds an entry without a sha256 hash")
    return keys


def save(path: Path, keys: list[ApiKey]) -> None:
    """Write atomically (temp file in the same directory, fsync, rename), mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps(
        {"version": FILE_VERSION, "keys": [k.to_dict() for k in keys]}, indent=2
    ).encode()
    fd, tmp = tempfile.mkstemp(prefix=".api-keys.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add(path: Path, name: str, scopes: tuple[str, ...]) -> str:
    """Add a key called `name`; returns the new key, which is stored nowhere."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            "key names are 1-64 letters, digits, '.', '_' or '-' (they are the audit actor)"
        )
    keys = load(path) if path.exists() else []
    if any(k.name == name for k in keys):
        raise ConfigError(f"a key called {name!r} exists; revoke it first or pick another name")
    key = PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    save(path, [*keys, ApiKey(name, scopes, digest(key), now)])
    return key


def revoke(path: Path, name: str) -> None:
    keys = load(path)
    kept = [k for k in keys if k.name != name]
    if len(kept) == len(keys):
        raise ConfigError(f"no key called {name!r} in {path}")
    save(path, kept)


class KeyRing:
    """The keys of a file as a running server sees them: re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._keys: list[ApiKey] = []
        self.refresh()

    def refresh(self) -> None:
        """Re-read if size, mtime or inode changed; a file that became unreadable or
        malformed keeps nothing (fail closed: every key is refused until it is fixed)."""
        try:
            st = self.path.stat()
        except OSError:
            self._stamp, self._keys = None, []
            return
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        try:
            self._keys = load(self.path)
        except InputError:
            self._keys = []
        self._stamp = stamp

    def match(self, presented: str) -> ApiKey | None:
        """The entry whose hash is the presented key's, comparing with every entry in
        constant time (no early exit: timing tells nothing about which entry is close)."""
        self.refresh()
        wanted = digest(presented).encode()
        found: ApiKey | None = None
        for k in self._keys:
            if hmac.compare_digest(k.hash.encode(), wanted):
                found = k
        return found

    def __len__(self) -> int:
        return len(self._keys)
