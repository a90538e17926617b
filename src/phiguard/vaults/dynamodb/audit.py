"""The re-identification audit trail of a DynamoDB vault, in `<vault table>-audit`.

Hash key `AuditId` (time + random suffix); each record is written once, conditionally, so it is
never overwritten. The actor is the AWS principal (sts:GetCallerIdentity) whose credentials
read the vault.
"""

from __future__ import annotations

import os
import uuid

from phiguard import aws
from phiguard.errors import VaultError
from phiguard.vaults.base import AuditRecord, os_actor
from phiguard.vaults.dynamodb.tables import AUDIT_SUFFIX, CompanionTable


class DynamoDBAuditLog(CompanionTable):
    """A `phiguard.vaults.base.AuditLog` in `<vault table>-audit`."""

    suffix = AUDIT_SUFFIX

    def append_audit(self, record: AuditRecord) -> None:
        item = {
            "AuditId": {"S": f"{record.at}#{uuid.uuid4().hex}"},
            "At": {"S": record.at},
            "Actor": {"S": record.actor},
            "Action": {"S": record.action},
            "MessageHashes": {"L": [{"S": h} for h in record.message_hashes]},
            "Values": {"N": str(record.values)},
            "Session": {"S": record.session},
            "Host": {"S": record.host},
        }
        try:
            self._client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(AuditId)",
            )
        except aws.errors() as exc:
            raise self._fail(exc, "write to", "dynamodb:PutItem") from None

    def audit_records(self) -> list[AuditRecord]:
        try:
            pages = self._client.get_paginator("scan").paginate(TableName=self.table)
            items = [i for page in pages for i in page.get("Items", [])]
        except aws.errors() as exc:
            raise self._fail(exc, "read", "dynamodb:Scan") from None
        records = [
            AuditRecord(
                i["At"]["S"],
                i["Actor"]["S"],
                i["Action"]["S"],
                tuple(h["S"] for h in i["MessageHashes"]["L"]),
                int(i["Values"]["N"]),
                i["Session"]["S"],
                i["Host"]["S"],
            )
            for i in items
        ]
        return sorted(records, key=lambda r: r.at)

    def actor(self) -> str:
        """The caller's ARN. For a vault at a non-AWS endpoint (DynamoDB Local, tests) STS is
        asked only if an STS endpoint is configured (AWS_ENDPOINT_URL_STS or
        AWS_ENDPOINT_URL); otherwise the OS user is recorded and marked as such."""
        target = self.target.aws_target
        if target.endpoint_url and not (
            os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
        ):
            return f"{os_actor()} (local endpoint, no STS)"
        sts_target = aws.Target(target.region, target.profile)  # not the DynamoDB endpoint
        sts = aws.client("sts", sts_target, label="STS", error=VaultError)
        try:
            arn = sts.get_caller_identity()["Arn"]
        except aws.errors() as exc:
            call = aws.Call(
                "STS", "identify the caller for the audit log", "sts:GetCallerIdentity", sts_target
            )
            raise aws.translate(exc, call, VaultError) from None
        return f"aws:{arn}"
