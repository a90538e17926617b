"""Which keys a writer seals with and a reader opens with: the key policy of a run.

Writers seal with a fresh KMS data key when a KMS key is named, else with the local key (created
if missing). Readers open rows with the local key if there is one and with any KMS-wrapped key
the vault holds (unwrapped on first use, so readers of local-key rows need no AWS at all).
Writers also get the surrogate key (phiguard.keys.derived), made on first use: a `deid` that
makes no surrogate never reads the KMS key slot it comes from.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from phiguard.errors import ConfigError, EncryptionKeyError
from phiguard.keys.derived import derive_surrogate_key
from phiguard.keys.files import ENV_VAR, load_key
from phiguard.keys.kms import KmsKeyring
from phiguard.keys.pseudonym import Pseudonymizer, derive_pseudonym_key
from phiguard.keys.sealer import Sealer
from phiguard.vaults.base import Capability, KeyStore, Vault

__all__ = ["Keys", "open_keys"]


class _Once:
    """A key made on first call and kept (a KMS unwrap happens at most once)."""

    def __init__(self, make: Callable[[], bytes]) -> None:
        self._make: Callable[[], bytes] | None = make
        self._key = b""

    def __call__(self) -> bytes:
        if self._make is not None:
            self._key = self._make()
            self._make = None
        return self._key

    def __repr__(self) -> str:  # never the key
        return "<surrogate key>"


class Keys(tuple[Sealer, Pseudonymizer | None]):
    """A run's keys: the Sealer, the Pseudonymizer (consistent tokens), and (writers) the
    surrogate key, made when first called. Unpacks as `sealer, pseudonymizer`, as before."""

    surrogate_key: Callable[[], bytes] | None

    def __new__(
        cls,
        sealer: Sealer,
        pseudonymizer: Pseudonymizer | None = None,
        surrogate_key: Callable[[], bytes] | None = None,
    ) -> Keys:
        self = super().__new__(cls, (sealer, pseudonymizer))
        self.surrogate_key = surrogate_key
        return self

    @property
    def sealer(self) -> Sealer:
        return self[0]

    @property
    def pseudonymizer(self) -> Pseudonymizer | None:
        return self[1]


class _LazyRing:
    """Creates the KMS client on the first unwrap, so readers of local-key rows need no AWS."""

    def __init__(self, store: KeyStore, region: str | None, profile: str | None) -> None:
        self._store, self._region, self._profile = store, region, profile
        self._ring: KmsKeyring | None = None

    def unwrap(self, kid: str) -> bytes | None:
        if self._store.get_wrapped_key(kid) is None:
            return None
        if self._ring is None:
            self._ring = KmsKeyring.for_aws(self._store, region=self._region, profile=self._profile)
        return self._ring.unwrap(kid)


def open_keys(
    vault: Vault,
    *,
    writer: bool,
    key_file: str | None = None,
    kms_key_id: str | None = None,
    consistent: bool = False,
    region: str | None = None,
    profile: str | None = None,
) -> Keys:
    """The Sealer (and, if `consistent`, the Pseudonymizer; for writers, the surrogate key) for
    a writer or a reader of `vault`.

    `region`/`profile` are those of KMS; the wrapped keys are kept in `vault.key_store()`. With
    KMS the surrogate key comes from the vault's one pseudonym slot (one per vault, like the
    pseudonym key), so every executor and every later run shifts a patient's dates alike.
    """
    store = vault.key_store() if Capability.KEY_STORE in vault.capabilities else None
    if writer and kms_key_id:
        if store is None:
            raise ConfigError(
                f"the {vault.name} vault cannot keep KMS-wrapped keys; use sqlite or dynamodb"
            )
        ring = KmsKeyring.for_aws(store, region=region, profile=profile)
        sealer = Sealer(ring.new_data_key(kms_key_id), lookup=ring.unwrap)
        slot = _Once(lambda: ring.pseudonym_key(kms_key_id))
        pseudo = Pseudonymizer(slot()) if consistent else None
        return Keys(sealer, pseudo, _Once(lambda: derive_surrogate_key(slot())))
    if writer:
        key = load_key(key_file, create=True)
        pseudo = Pseudonymizer(derive_pseudonym_key(key)) if consistent else None
        return Keys(Sealer(key), pseudo, _Once(lambda: derive_surrogate_key(key)))
    try:
        local: bytes | None = load_key(key_file)
    except EncryptionKeyError:
        explicit = key_file is not None or os.environ.get(ENV_VAR)
        if explicit or store is None or not store.may_hold_keys():
            raise
        local = None
    lookup = _LazyRing(store, region, profile).unwrap if store is not None else None
    return Keys(Sealer(local, lookup=lookup))
