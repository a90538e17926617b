"""KMS-wrapped data keys of a DynamoDB vault, in the companion table `<vault table>-keys`.

Hash key `KeyId`: a key's fingerprint (what vault rows name) or the pseudonym slot. Readers fetch
one key by `GetItem`; only the key administrator lists them (`Scan`, for a re-wrap).
"""

from __future__ import annotations

from typing import Any

from phiguard import aws
from phiguard.vaults.base import WrappedKey
from phiguard.vaults.dynamodb.tables import KEYS_SUFFIX, CompanionTable


class DynamoDBKeyStore(CompanionTable):
    """A `phiguard.vaults.base.KeyStore` in `<vault table>-keys`."""

    suffix = KEYS_SUFFIX

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
        except aws.errors() as exc:
            if if_absent and aws.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise self._fail(exc, "store a wrapped key in", "dynamodb:PutItem") from None
        return True

    def get_wrapped_key(self, key_id: str) -> WrappedKey | None:
        try:
            resp = self._client.get_item(
                TableName=self.table, Key={"KeyId": {"S": key_id}}, ConsistentRead=True
            )
        except aws.errors() as exc:
            raise self._fail(exc, "read a wrapped key from", "dynamodb:GetItem") from None
        item = resp.get("Item")
        return None if item is None else self._from_item(item)

    def wrapped_keys(self) -> list[WrappedKey]:
        try:
            pages = self._client.get_paginator("scan").paginate(
                TableName=self.table, ConsistentRead=True
            )
            return [self._from_item(i) for page in pages for i in page.get("Items", [])]
        except aws.errors() as exc:
            raise self._fail(exc, "list the wrapped keys in", "dynamodb:Scan") from None

    def may_hold_keys(self) -> bool:
        return True  # telling would take a Scan, which readers are not granted

    @staticmethod
    def _from_item(item: dict[str, Any]) -> WrappedKey:
        return WrappedKey(
            item["KeyId"]["S"],
            item["KmsKeyId"]["S"],
            bytes(item["Wrapped"]["B"]),
            item["Purpose"]["S"],
            item["CreatedAt"]["S"],
        )
