"""AWS KMS envelope encryption for vault values.

A writer asks KMS for a fresh AES-256 data key (`GenerateDataKey`), stores the wrapped copy next
to the vault *before* sealing anything with it, and seals values with the plaintext copy, which
lives in memory only. Each writer run gets its own data key, so writers need no `kms:Decrypt` and
no read access to keys they did not create. A reader finds the wrapped key named by a row's
`key_id` and unwraps it with `Decrypt`; KMS (and CloudTrail) see every unwrap.

Wrapped keys live in the vault's key store (`vault.key_store()`): the `keys` table of the SQLite
file, or the companion DynamoDB table `<vault table>-keys` (hash key `KeyId`). Rotating the KMS
key re-wraps these few blobs (`ReEncrypt`); no value is re-encrypted, since the data keys do not
change.

Every KMS call carries the encryption context {"phiguard:purpose": "data" | "pseudonym"}, so an
IAM condition can let writers unwrap the pseudonym key but not the data keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from phiguard import aws
from phiguard.errors import EncryptionKeyError, Hint
from phiguard.keys.files import KEY_BYTES, key_id
from phiguard.vaults.base import KeyStore, WrappedKey

__all__ = [
    "CONTEXT_KEY",
    "PSEUDONYM_SLOT",
    "PURPOSE_DATA",
    "PURPOSE_PSEUDONYM",
    "KeyStore",
    "KmsKeyring",
    "WrappedKey",
]

PURPOSE_DATA = "data"
PURPOSE_PSEUDONYM = "pseudonym"
#: The key-store slot of the (single, per vault) pseudonym key.
PSEUDONYM_SLOT = "pseudonym-v1"
CONTEXT_KEY = "phiguard:purpose"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class KmsKeyring:
    """Generates, stores, unwraps and re-wraps data keys through one KMS client."""

    def __init__(self, store: KeyStore, kms_client: Any, target: aws.Target | None = None) -> None:
        self.store = store
        self._kms = kms_client
        self._target = target or aws.Target()
        self._plain: dict[str, bytes] = {}

    @classmethod
    def for_aws(
        cls, store: KeyStore, *, region: str | None = None, profile: str | None = None
    ) -> KmsKeyring:
        """A key ring on a KMS client for `region`/`profile` (AWS_ENDPOINT_URL_KMS honoured)."""
        target = aws.resolve(aws.Target(region, profile), "KMS", EncryptionKeyError)
        return cls(store, aws.client("kms", target, label="KMS", error=EncryptionKeyError), target)

    def _fail(
        self, exc: BaseException, what: str, action: str, kms_key_id: str | None = None
    ) -> EncryptionKeyError:
        resource = f"KMS key '{kms_key_id}'" if kms_key_id else "the KMS key of a wrapped data key"
        call = aws.Call("KMS", what, action, self._target, resource, Hint.KMS_KEY)
        return aws.translate(exc, call, EncryptionKeyError)

    def new_data_key(self, kms_key_id: str) -> bytes:
        """A fresh data key; its wrapped copy is stored before the plaintext is returned."""
        plain, wrapped, arn = self._generate(kms_key_id, PURPOSE_DATA)
        kid = key_id(plain)
        self.store.put_wrapped_key(WrappedKey(kid, arn, wrapped, PURPOSE_DATA, _now()))
        self._plain[kid] = plain
        return plain

    def pseudonym_key(self, kms_key_id: str | None) -> bytes:
        """The vault's one pseudonym key: unwrapped if stored, else generated (race-safe)."""
        stored = self.store.get_wrapped_key(PSEUDONYM_SLOT)
        if stored is None:
            if kms_key_id is None:
                raise EncryptionKeyError(
                    "this vault has no pseudonym key yet; a writer with a KMS key creates it",
                    hint=Hint.KMS_KEY,
                )
            plain, wrapped, arn = self._generate(kms_key_id, PURPOSE_PSEUDONYM)
            slot = WrappedKey(PSEUDONYM_SLOT, arn, wrapped, PURPOSE_PSEUDONYM, _now())
            if self.store.put_wrapped_key(slot, if_absent=True):
                return plain
            stored = self.store.get_wrapped_key(PSEUDONYM_SLOT)  # another writer won the race
            if stored is None:
                raise EncryptionKeyError("the pseudonym key vanished from the key store")
        return self._decrypt(stored)

    def unwrap(self, kid: str) -> bytes | None:
        """The plaintext data key named `kid`, or None if this vault has no such wrapped key."""
        if kid in self._plain:
            return self._plain[kid]
        stored = self.store.get_wrapped_key(kid)
        if stored is None or stored.purpose != PURPOSE_DATA:
            return None
        plain = self._decrypt(stored)
        self._plain[kid] = plain
        return plain

    def rewrap(
        self, new_kms_key_id: str, progress: Callable[[WrappedKey], None] | None = None
    ) -> int:
        """Re-wrap every stored key under `new_kms_key_id` (kms:ReEncrypt); values untouched.

        Idempotent: re-running after a failure re-wraps what is left (a key already under the
        new KMS key is re-wrapped again, harmlessly).
        """
        count = 0
        for k in self.store.wrapped_keys():
            context = {CONTEXT_KEY: k.purpose}
            try:
                resp = self._kms.re_encrypt(
                    CiphertextBlob=k.wrapped,
                    SourceEncryptionContext=context,
                    DestinationKeyId=new_kms_key_id,
                    DestinationEncryptionContext=context,
                )
            except aws.errors() as exc:
                raise self._fail(
                    exc, "re-wrap a data key", "kms:ReEncrypt", new_kms_key_id
                ) from None
            new = WrappedKey(
                k.key_id, resp["KeyId"], resp["CiphertextBlob"], k.purpose, k.created_at
            )
            self.store.put_wrapped_key(new)
            count += 1
            if progress is not None:
                progress(new)
        return count

    def _generate(self, kms_key_id: str, purpose: str) -> tuple[bytes, bytes, str]:
        try:
            resp = self._kms.generate_data_key(
                KeyId=kms_key_id, KeySpec="AES_256", EncryptionContext={CONTEXT_KEY: purpose}
            )
        except aws.errors() as exc:
            raise self._fail(
                exc, "generate a data key", "kms:GenerateDataKey", kms_key_id
            ) from None
        plain = bytes(resp["Plaintext"])
        if len(plain) != KEY_BYTES:
            raise EncryptionKeyError("KMS returned a data key of the wrong size")
        return plain, bytes(resp["CiphertextBlob"]), str(resp["KeyId"])

    def _decrypt(self, stored: WrappedKey) -> bytes:
        try:
            resp = self._kms.decrypt(
                CiphertextBlob=stored.wrapped, EncryptionContext={CONTEXT_KEY: stored.purpose}
            )
        except aws.errors() as exc:
            raise self._fail(exc, "unwrap a data key", "kms:Decrypt") from None
        plain = bytes(resp["Plaintext"])
        if stored.purpose == PURPOSE_DATA and key_id(plain) != stored.key_id:
            raise EncryptionKeyError(f"wrapped key {stored.key_id} unwrapped to another key")
        return plain
