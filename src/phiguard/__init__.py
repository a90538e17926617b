"""phiguard: find PHI in clinical text; mask it, or swap it for salted SHA3-256 tokens whose
originals are kept encrypted in a vault for authorized re-identification.

    from phiguard import Deidentifier, Sealer, load_key, open_vault
    d = Deidentifier("local", vault=open_vault("sqlite"), sealer=Sealer(load_key(create=True)))
    out = d.deidentify(note)          # mapping stored before the text is returned
    assert d.reidentify(out.text) == note

The flow, one package per step: `detectors` → `resolve` → `transform` → `keys` (seal) →
`vaults` (store) → `reid`; `run` drives it over many notes (batch, jobs, Spark) from one
`Config`. See docs/architecture.md.
"""

from phiguard.audit import Auditor
from phiguard.config import Config, DetectorConfig, KeyConfig, RunOptions, StoreConfig
from phiguard.detectors import Capabilities, Detector, get_detector
from phiguard.errors import (
    ConfigError,
    DetectionError,
    EncryptionKeyError,
    Failure,
    Hint,
    InputError,
    OutputError,
    PhiguardError,
    RecordsFailed,
    ReidentificationError,
    VaultError,
)
from phiguard.keys.files import load_key
from phiguard.keys.pseudonym import Pseudonymizer
from phiguard.keys.sealer import Sealer
from phiguard.reid import reidentify
from phiguard.resolve import Resolver, merge
from phiguard.run.deidentifier import Deidentifier
from phiguard.run.job import Command, JobSpec, Summary, run_job
from phiguard.run.records import DeidResult, Item, Result
from phiguard.run.sources import Mode
from phiguard.spans import PhiType, Span
from phiguard.transform import MaskStyle, mask, message_hash, tokenize
from phiguard.vaults import Vault, VaultRecord, open_vault

__version__ = "0.1.0"

__all__ = [
    "Auditor",
    "Capabilities",
    "Command",
    "Config",
    "ConfigError",
    "DeidResult",
    "Deidentifier",
    "DetectionError",
    "Detector",
    "DetectorConfig",
    "EncryptionKeyError",
    "Failure",
    "Hint",
    "InputError",
    "Item",
    "JobSpec",
    "KeyConfig",
    "MaskStyle",
    "Mode",
    "OutputError",
    "PhiType",
    "PhiguardError",
    "Pseudonymizer",
    "RecordsFailed",
    "ReidentificationError",
    "Resolver",
    "Result",
    "RunOptions",
    "Sealer",
    "Span",
    "StoreConfig",
    "Summary",
    "Vault",
    "VaultError",
    "VaultRecord",
    "__version__",
    "get_detector",
    "load_key",
    "mask",
    "merge",
    "message_hash",
    "open_vault",
    "reidentify",
    "run_job",
    "tokenize",
]
