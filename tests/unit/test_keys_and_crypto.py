"""Values are sealed with AES-256-GCM bound to (message, token); keys come from file or env."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from phiguard import EncryptionKeyError, Sealer, load_key
from phiguard.keys.files import key_id

MH, TOK = "ab" * 32, "cd" * 32


def test_seal_open_round_trip_and_no_plaintext() -> None:
    s = Sealer(os.urandom(32))
    sealed = s.seal(MH, TOK, "Carlos Salazar 🙂")
    assert b"Carlos" not in sealed
    assert s.open(MH, TOK, sealed, s.key_id) == "Carlos Salazar 🙂"
    assert s.seal(MH, TOK, "x") != s.seal(MH, TOK, "x"), "fresh nonce each time"


def test_ciphertext_moved_to_another_row_fails() -> None:
    s = Sealer(os.urandom(32))
    sealed = s.seal(MH, TOK, "Jorge")
    with pytest.raises(EncryptionKeyError, match="wrong key or tampered"):
        s.open(MH, "ef" * 32, sealed, s.key_id)
    with pytest.raises(EncryptionKeyError, match="wrong key or tampered"):
        s.open("00" * 32, TOK, sealed, s.key_id)


def test_tampered_ciphertext_fails_without_revealing_anything() -> None:
    s = Sealer(os.urandom(32))
    sealed = bytearray(s.seal(MH, TOK, "Diego"))
    sealed[-1] ^= 1
    with pytest.raises(EncryptionKeyError) as info:
        s.open(MH, TOK, bytes(sealed), s.key_id)
    assert "Diego" not in str(info.value)


def test_wrong_key_is_named_by_fingerprint() -> None:
    a, b = Sealer(os.urandom(32)), Sealer(os.urandom(32))
    with pytest.raises(EncryptionKeyError, match="wrong key"):
        b.open(MH, TOK, a.seal(MH, TOK, "v"), a.key_id)


def test_key_file_created_0600_on_first_write(phiguard_home: Path) -> None:
    key = load_key(create=True)
    path = phiguard_home / "key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key() == key
    assert len(key) == 32


def test_readers_never_create_a_key(phiguard_home: Path) -> None:
    with pytest.raises(EncryptionKeyError, match="not found"):
        load_key()
    assert not (phiguard_home / "key").exists()


def test_env_key_and_malformed_keys(phiguard_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = os.urandom(32)
    monkeypatch.setenv("PHIGUARD_KEY", base64.b64encode(raw).decode())
    assert load_key() == raw and key_id(raw) == Sealer(raw).key_id
    monkeypatch.setenv("PHIGUARD_KEY", "not base64!")
    with pytest.raises(EncryptionKeyError, match="PHIGUARD_KEY is not valid base64"):
        load_key()
    monkeypatch.setenv("PHIGUARD_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(EncryptionKeyError, match="32 bytes"):
        load_key()


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(base64.b64encode(os.urandom(32)).decode())
    path.chmod(0o644)
    with pytest.raises(EncryptionKeyError, match="chmod 600"):
        load_key(path)
