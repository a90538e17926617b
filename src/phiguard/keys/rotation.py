"""Re-encrypting a vault's values to a new local key, resumably.

(With KMS nothing is re-encrypted: `KmsKeyring.rewrap` re-wraps the few data keys instead.)
"""

from __future__ import annotations

from collections.abc import Callable

from phiguard.errors import EncryptionKeyError, Hint
from phiguard.keys.sealer import Sealer
from phiguard.vaults.base import Capability, Vault, VaultRecord


def rotate_local_key(
    vault: Vault,
    old: Sealer,
    new_key: bytes,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    before_first_write: Callable[[], None] | None = None,
) -> int:
    """Re-encrypt every vault value not sealed with `new_key`, in batches; returns the count.

    `old` opens the rows (the previous key file, KMS data keys). Each batch is one `put` (one
    transaction in SQLite), and rows carry the key_id that sealed them, so an interrupted
    rotation is resumed by running it again: it picks up the rows left. `before_first_write`
    runs once, after the first batch was opened with the old key and before any row is written
    with the new one (the CLI creates the new key file there: not earlier, so a rotation that
    cannot start leaves no key behind; not later, so no row is ever sealed with a key that was
    not saved).
    """
    if Capability.ROTATE not in vault.capabilities:
        raise EncryptionKeyError(
            f"the {vault.name} vault cannot re-encrypt values to a new local key; seal with a "
            "KMS key instead and re-wrap its data keys to rotate",
            hint=Hint.KMS_KEY,
        )
    new = Sealer(new_key)
    done = 0
    while True:
        batch = vault.records_not_sealed_with(new.key_id, batch_size)
        if not batch:
            return done
        rows = []
        for r in batch:
            value = old.open(r.message_hash, r.token, r.ciphertext, r.key_id)
            sealed = new.seal(r.message_hash, r.token, value)
            rows.append(
                VaultRecord(
                    r.message_hash, r.token, r.type, sealed, new.key_id, r.offset, r.created_at
                )
            )
        if before_first_write is not None and done == 0:
            before_first_write()
        vault.put(rows)
        done += len(rows)
        if progress is not None:
            progress(done)
