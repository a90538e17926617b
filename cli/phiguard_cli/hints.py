"""The CLI's wording of library error hints: the flag (or variable) that would fix the error.

Library messages never quote flags (the library has none); an error carries a `Hint` and the
CLI appends what to pass, so its one stderr line still says what to do.
"""

from __future__ import annotations

from phiguard.errors import Hint, PhiguardError

FLAGS: dict[Hint, str] = {
    Hint.REGION: "pass --region or set AWS_REGION",
    Hint.PROFILE: "pass --profile to use another AWS profile",
    Hint.ENDPOINT: "check --endpoint-url",
    Hint.TABLE: "pass --table NAME",
    Hint.CREATE_TABLES: "create the tables with `phiguard vault create-table` "
    "(same --table, --region, --endpoint-url)",
    Hint.KMS_KEY: "pass --kms-key-id",
    Hint.KEY_FILE: "pass --key-file or set PHIGUARD_KEY",
    Hint.VAULT_PATH: "pass --vault PATH",
    Hint.STORE: "pass --store sqlite or --store dynamodb",
    Hint.PARTIAL: "`phiguard reid --partial` restores the tokens still in it (give the hash "
    "that `deid --format json` printed with --message-hash if only the text was kept)",
}


def error_line(exc: PhiguardError) -> str:
    """`phiguard: error: MESSAGE[; HINT]`, the one line every error ends as."""
    hint = FLAGS.get(exc.hint) if exc.hint is not None else None
    return f"phiguard: error: {exc}" + (f"; {hint}" if hint else "")
