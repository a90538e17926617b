"""Transforms: one engine applies a `Policy` (an action per PHI type) to a note's spans.

`engine` builds the output from offsets in one pass and returns the replacements to seal;
`policy` says what each type becomes (mask, label, token, surrogate, shift, keep) and reads
policy files. `mask`, `tokenize` and `restore` keep their names from before policies.
"""

from phiguard.transform.engine import (
    LOOKALIKE,
    SALT_BYTES,
    TOKEN_LENGTH,
    TOKEN_LIKE,
    MaskStyle,
    Replacement,
    SurrogateSource,
    Tokenized,
    Transformed,
    apply,
    mask,
    message_hash,
    new_token,
    restore,
    tokenize,
    with_lookalikes,
)
from phiguard.transform.policy import KEYED, REVERSIBLE, Action, Policy, load_policy, masking

__all__ = [
    "KEYED",
    "LOOKALIKE",
    "REVERSIBLE",
    "SALT_BYTES",
    "TOKEN_LENGTH",
    "TOKEN_LIKE",
    "Action",
    "MaskStyle",
    "Policy",
    "Replacement",
    "SurrogateSource",
    "Tokenized",
    "Transformed",
    "apply",
    "load_policy",
    "mask",
    "masking",
    "message_hash",
    "new_token",
    "restore",
    "tokenize",
    "with_lookalikes",
]
