"""AWS KMS envelope encryption for vault values.

A writer asks KMS for a fresh AES-256 data key (`GenerateDataKey`), stores the wrapped copy next
to the vault *before* sealing anything with it, and seals values with the plaintext copy, which
lives in memory only. Each writer run gets its own data key, so writers need no `kms:Decrypt` and
no read access to keys they did not create. A reader finds the wrapped key named by a row's
`key_id` and unwraps it with `Decrypt`; KMS (and CloudTrail) see every unwrap.

Wrapped keys live in the vault's key store: the `keys` table of the SQLite file, or the companion
DynamoDB table `<vault table>-keys` (hash key `KeyId`). Rotating the KMS key re-wraps these few
blobs (`ReEncrypt`); no value is re-encrypted, since the data keys do not change.

Every KMS call carries the encryption context {"phiguard:purpose": "data" | "pseudonym"}, so an
IAM condition can let writers unwrap the pseudonym key but not the data keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from phiguard.errors import ConfigError, EncryptionKeyError, PhiguardError, VaultError
from phiguard.keys.files import KEY_BYTES, key_id
from phiguard.keys.sealer import Sealer

if TYPE_CHECKING:
    from phiguard.keys.pseudonym import Pseudonymizer

PURPOSE_DATA = "data"
PURPOSE_PSEUDONYM = "pseudonym"
#: The key-store slot of the (single, per vault) pseudonym key.
PSEUDONYM_SLOT = "pseudonym-v1"
CONTEXT_KEY = "phiguard:purpose"


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key as stored: wrapped by KMS, never in plaintext.

    `key_id` is the fingerprint of the plaintext key (what vault rows name), or PSEUDONYM_SLOT.
    """

    key_id: str
    kms_key_id: str
    wrapped: bytes
    purpose: str
    created_at: str


@runtime_checkable
class KeyStore(Protocol):
    """Where wrapped data keys are kept, next to the vault."""

    def put_wrapped_key(self, key: WrappedKey, *, if_absent: bool = False) -> bool:
        """Store `key` durably; with `if_absent`, only if its slot is empty. True if stored."""
        ...

    def get_wrapped_key(self, key_id: str) -> WrappedKey | None: ...

    def wrapped_keys(self) -> list[WrappedKey]: ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# -- AWS plumbing shared with phiguard.audit ---------------------------------------------------


def aws_session(region: str | None, profile: str | None) -> Any:
    """A boto3 session; errors (missing profile, no boto3) become one clear line."""
    try:
        import boto3
        import botocore.exceptions
    except ImportError:  # pragma: no cover - boto3 ships with the [aws] extra
        raise ConfigError("AWS support needs boto3: pip install 'phiguard[aws]'") from None
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound:
        raise ConfigError(f"AWS profile '{profile}' not found") from None
    if session.region_name is None and os.environ.get("AWS_REGION"):
        session = boto3.Session(profile_name=profile, region_name=os.environ["AWS_REGION"])
    return session


def aws_client(
    service: str, region: str | None, profile: str | None, endpoint_url: str | None = None
) -> Any:
    """A client with standard retries; AWS_ENDPOINT_URL_<SERVICE> is honoured by botocore."""
    from botocore.config import Config

    session = aws_session(region, profile)
    if session.region_name is None and endpoint_url is None:
        raise ConfigError(
            f"no AWS region configured for {service}; pass --region or set AWS_REGION"
        )
    config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5)
    return session.client(
        service,
        region_name=session.region_name or "us-east-1",
        endpoint_url=endpoint_url,
        config=config,
    )


_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "RequestExpired",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
}


_XML_CODE = re.compile(r"<Code>(\w+)</Code>")


def error_code(response: Mapping[str, Any]) -> str:
    """The AWS error code of a ClientError response.

    Some endpoints (moto_server's IAM layer, proxies) answer a JSON-protocol call with an XML
    error body; botocore then reports the HTTP status as the code and the XML as the message.
    """
    err = response.get("Error", {})
    code = str(err.get("Code", "Unknown"))
    if code.isdigit():
        found = _XML_CODE.search(str(err.get("Message", "")))
        if found:
            return found.group(1)
    return code


def aws_failure(
    exc: BaseException, what: str, error: type[PhiguardError] = VaultError
) -> PhiguardError:
    """One PHI-free line for a failed AWS call: the operation and the error code, never data."""
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        code = error_code(exc.response)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _DENIED or (status == 403 and code not in _CREDENTIALS):
            return error(f"access denied: this AWS identity may not {what} ({code}); see docs/iam/")
        if code in _CREDENTIALS:
            return error(
                f"AWS credentials were rejected for {what} ({code}); refresh them "
                "(e.g. `aws sso login`) or choose another --profile"
            )
        if code == "ResourceNotFoundException":
            return error(f"{what} failed: not found ({code}); run `phiguard vault create-table`")
        return error(f"{what} failed: {code}")
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return error(
            f"no AWS credentials found for {what}; pass --profile, set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run under an IAM role"
        )
    if isinstance(exc, botocore.exceptions.EndpointConnectionError | ConnectionError):
        return error(f"cannot reach the AWS endpoint for {what}; check the network and retry")
    return error(f"{what} failed: {type(exc).__name__}")


def aws_errors() -> tuple[type[BaseException], ...]:
    import botocore.exceptions

    return (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


def create_dynamodb_table(client: Any, name: str, hash_key: str) -> bool:
    """Create an on-demand table with a single string hash key; False if it exists."""
    try:
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except aws_errors() as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code == "ResourceInUseException":
            return False
        raise aws_failure(exc, f"create DynamoDB table '{name}' (dynamodb:CreateTable)") from None
    try:
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    except aws_errors() as exc:
        raise aws_failure(exc, f"wait for DynamoDB table '{name}'") from None
    return True


# -- key stores --------------------------------------------------------------------------------


class CompanionTable:
    """A DynamoDB table beside the vault table, named `<vault table><suffix>`."""

    suffix = ""

    def __init__(
        self,
        vault_table: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
    ) -> None:
        self.table = f"{vault_table}{self.suffix}"
        self._client = aws_client("dynamodb", region, profile, endpoint_url)


class DynamoDBKeyStore(CompanionTable):
    """Wrapped keys in the companion table `<vault table>-keys` (hash key `KeyId`)."""

    suffix = "-keys"

    def put_wrapped_key(self, key: WrappedKey, *, if_absent: bool = False) -> bool:
        item = {
            "KeyId": {"S": key.key_id},
            "KmsKeyId": {"S": key.kms_key_id},
            "Wrapped": {"B": key.wrapped},
            "Purpose": {"S": key.purpose},
            "CreatedAt": {"S": key.created_at},
        }
        extra: dict[str, Any] = {}
        if if_absent:
            extra["ConditionExpression"] = "attribute_not_exists(KeyId)"
        try:
            self._client.put_item(TableName=self.table, Item=item, **extra)
        except aws_errors() as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if if_absent and code == "ConditionalCheckFailedException":
                return False
            raise aws_failure(exc, f"store a wrapped key in '{self.table}' (PutItem)") from None
        return True

    def get_wrapped_key(self, key_id: str) -> WrappedKey | None:
        try:
            resp = self._client.get_item(
                TableName=self.table, Key={"KeyId": {"S": key_id}}, ConsistentRead=True
            )
        except aws_errors() as exc:
            raise aws_failure(exc, f"read a wrapped key from '{self.table}' (GetItem)") from None
        item = resp.get("Item")
        return None if item is None else self._from_item(item)

    def wrapped_keys(self) -> list[WrappedKey]:
        try:
            pages = self._client.get_paginator("scan").paginate(
                TableName=self.table, ConsistentRead=True
            )
            return [self._from_item(i) for page in pages for i in page.get("Items", [])]
        except aws_errors() as exc:
            raise aws_failure(exc, f"list wrapped keys in '{self.table}' (Scan)") from None

    @staticmethod
    def _from_item(item: dict[str, Any]) -> WrappedKey:
        return WrappedKey(
            item["KeyId"]["S"],
            item["KmsKeyId"]["S"],
            bytes(item["Wrapped"]["B"]),
            item["Purpose"]["S"],
            item["CreatedAt"]["S"],
        )


# -- the key ring ------------------------------------------------------------------------------


class KmsKeyring:
    """Generates, stores, unwraps and re-wraps data keys through one KMS client."""

    def __init__(self, store: KeyStore, kms_client: Any) -> None:
        self.store = store
        self._kms = kms_client
        self._plain: dict[str, bytes] = {}

    @classmethod
    def for_aws(
        cls, store: KeyStore, *, region: str | None = None, profile: str | None = None
    ) -> KmsKeyring:
        try:
            return cls(store, aws_client("kms", region, profile))
        except PhiguardError as exc:
            raise EncryptionKeyError(str(exc)) from None

    def _fail(self, exc: BaseException, what: str) -> PhiguardError:
        return aws_failure(exc, what, EncryptionKeyError)

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
                    "this vault has no pseudonym key yet; pass --kms-key-id to create one"
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
            except aws_errors() as exc:
                raise self._fail(exc, "re-wrap a data key (kms:ReEncrypt)") from None
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
        except aws_errors() as exc:
            raise self._fail(exc, "generate a data key (kms:GenerateDataKey)") from None
        plain = bytes(resp["Plaintext"])
        if len(plain) != KEY_BYTES:
            raise EncryptionKeyError("KMS returned a data key of the wrong size")
        return plain, bytes(resp["CiphertextBlob"]), str(resp["KeyId"])

    def _decrypt(self, stored: WrappedKey) -> bytes:
        try:
            resp = self._kms.decrypt(
                CiphertextBlob=stored.wrapped, EncryptionContext={CONTEXT_KEY: stored.purpose}
            )
        except aws_errors() as exc:
            raise self._fail(exc, "unwrap a data key (kms:Decrypt)") from None
        plain = bytes(resp["Plaintext"])
        if stored.purpose == PURPOSE_DATA and key_id(plain) != stored.key_id:
            raise EncryptionKeyError(f"wrapped key {stored.key_id} unwrapped to another key")
        return plain


# -- choosing keys for a vault -----------------------------------------------------------------


def key_store_for(
    vault: object,
    *,
    table: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> KeyStore | None:
    """The vault itself if it keeps keys (SQLite, memory), else the DynamoDB companion table."""
    if isinstance(vault, KeyStore):
        return vault
    if getattr(vault, "name", None) == "dynamodb":
        return DynamoDBKeyStore(
            table or "phiguard-vault", region=region, endpoint_url=endpoint_url, profile=profile
        )
    return None


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
    vault: object,
    *,
    writer: bool,
    key_file: str | None = None,
    kms_key_id: str | None = None,
    consistent: bool = False,
    table: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> tuple[Sealer, Pseudonymizer | None]:
    """The Sealer (and, if `consistent`, the Pseudonymizer) for a writer or a reader of `vault`.

    Writers seal with a fresh KMS data key when `kms_key_id` is given, else with the local key
    (created if missing). Readers open rows with the local key if there is one and with any
    KMS-wrapped key the vault holds (unwrapped on first use).
    """
    from phiguard.keys.files import load_key
    from phiguard.keys.pseudonym import Pseudonymizer, derive_pseudonym_key

    store = key_store_for(
        vault, table=table, region=region, endpoint_url=endpoint_url, profile=profile
    )
    if writer and kms_key_id:
        if store is None:
            raise ConfigError("this vault cannot keep KMS-wrapped keys; use sqlite or dynamodb")
        ring = KmsKeyring.for_aws(store, region=region, profile=profile)
        sealer = Sealer(ring.new_data_key(kms_key_id), lookup=ring.unwrap)
        pseudo = Pseudonymizer(ring.pseudonym_key(kms_key_id)) if consistent else None
        return sealer, pseudo
    if writer:
        key = load_key(key_file, create=True)
        return Sealer(key), Pseudonymizer(derive_pseudonym_key(key)) if consistent else None
    try:
        local: bytes | None = load_key(key_file)
    except EncryptionKeyError:
        explicit = key_file is not None or os.environ.get("PHIGUARD_KEY")
        has_wrapped = store is not None and (
            isinstance(store, DynamoDBKeyStore) or bool(store.wrapped_keys())
        )
        if explicit or not has_wrapped:
            raise
        local = None
    lookup = _LazyRing(store, region, profile).unwrap if store is not None else None
    return Sealer(local, lookup=lookup), None
