"""`phiguard vault rotate-key` and `phiguard vault audit`: parse, call the library, print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from phiguard.errors import ConfigError
from phiguard.vaults import STORES
from phiguard_cli.options import open_store

_store_options = [
    click.option("--store", type=click.Choice(STORES), default="sqlite", show_default=True),
    click.option(
        "--vault", "vault_path", type=click.Path(), default=None, help="SQLite vault file."
    ),
    click.option("--table", default="phiguard-vault", show_default=True, help="DynamoDB table."),
    click.option("--endpoint-url", default=None, help="DynamoDB endpoint."),
    click.option("--region", default=None, help="AWS region."),
    click.option("--profile", default=None, help="AWS profile."),
]


def _with_store(fn: Any) -> Any:
    for option in reversed(_store_options):
        fn = option(fn)
    return fn


def _open(opts: dict[str, Any]) -> Any:
    return open_store(opts, writer=False)


@click.command("rotate-key")
@_with_store
@click.option(
    "--kms-key-id",
    default=None,
    help="Re-wrap every stored data key under this KMS key (no value is re-encrypted).",
)
@click.option(
    "--key-file",
    type=click.Path(),
    default=None,
    help="The current local key (default: $PHIGUARD_KEY, else $PHIGUARD_HOME/key).",
)
@click.option(
    "--new-key-file",
    type=click.Path(),
    default=None,
    help="Re-encrypt every value to this local key (created 0600 if absent; resumable).",
)
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True)
def rotate_key_command(**opts: Any) -> None:
    """Rotate vault keys: re-wrap KMS data keys, or re-encrypt values to a new local key."""
    from phiguard.keys.files import generate_key, read_key_file, write_key_file
    from phiguard.keys.kms import KmsKeyring
    from phiguard.keys.policy import open_keys
    from phiguard.vaults.base import Capability

    if bool(opts["kms_key_id"]) == bool(opts["new_key_file"]):
        raise ConfigError("pass exactly one of --kms-key-id (re-wrap) or --new-key-file")
    vault = _open(opts)
    try:
        if opts["kms_key_id"]:
            if Capability.KEY_STORE not in vault.capabilities:
                raise ConfigError(f"the {opts['store']} vault keeps no wrapped keys")
            store = vault.key_store()
            ring = KmsKeyring.for_aws(store, region=opts["region"], profile=opts["profile"])
            n = ring.rewrap(opts["kms_key_id"])
            click.echo(f"re-wrapped {n} key(s) under {opts['kms_key_id']}", err=True)
            return
        from phiguard.keys.files import key_id
        from phiguard.keys.rotation import rotate_local_key

        old, _ = open_keys(
            vault,
            writer=False,
            key_file=opts["key_file"],
            region=opts["region"],
            profile=opts["profile"],
        )
        new_path = Path(opts["new_key_file"])
        resuming = new_path.exists()  # an existing file is reused: that is how a run resumes
        new_key = read_key_file(new_path) if resuming else generate_key()

        def save_new_key() -> None:
            if not new_path.exists():
                write_key_file(new_path, new_key)

        n = rotate_local_key(
            vault, old, new_key, batch_size=opts["batch_size"], before_first_write=save_new_key
        )
        save_new_key()  # a vault with nothing left to rotate still gets its new key file
        click.echo(
            f"re-encrypted {n} value(s) to key {key_id(new_key)}; use --key-file {new_path} "
            "from now on and keep the old key until every backup has been rotated",
            err=True,
        )
    finally:
        vault.close()


@click.command("audit")
@_with_store
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def audit_command(**opts: Any) -> None:
    """List the re-identification audit trail (who, when, which notes, how many values)."""
    from phiguard.audit import open_audit_log, records_json

    vault = _open(opts)
    try:
        records = open_audit_log(vault).audit_records()
    finally:
        vault.close()
    if opts["fmt"] == "json":
        click.echo(records_json(records), nl=False)
        return
    for r in records:
        hashes = ",".join(h[:16] for h in r.message_hashes)
        click.echo(f"{r.at}\t{r.actor}\t{r.action}\t{r.values} value(s)\t{hashes}\t{r.session}")


def register(group: click.Group) -> None:
    group.add_command(rotate_key_command)
    group.add_command(audit_command)
