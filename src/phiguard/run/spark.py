"""De-identify, surrogate or mask a Spark DataFrame column (needs the `spark` extra: pyspark,
pandas, pyarrow).

    from phiguard import Config, StoreConfig, KeyConfig
    from phiguard.run.spark import deidentify_column, surrogate_column
    cfg = Config(store=StoreConfig("dynamodb", table="phiguard-vault", region="us-east-1"),
                 keys=KeyConfig(kms_key_id="alias/phiguard"))
    out = deidentify_column(df, "note_text", cfg)   # lazy: runs when `out` is written
    out = surrogate_column(df, "note_text", cfg, patient_column="patient_id")

Why it is built this way:

- `mapInPandas` hands each Python worker Arrow batches of rows, so the pipeline (spaCy
  model, vault connection, keys) is built **once per executor Python process** from the
  `Config` and cached at module level, never per row or per batch; Spark reuses Python
  workers across tasks.
- Only the small, picklable `Config` travels with the task: the same one the CLI builds, so
  Spark has every option the CLI has (KMS data keys, consistent pseudonyms, resolver lists).
  No key travels: each executor loads it itself (`key_file`, or `$PHIGUARD_KEY` in the
  executor environment), or asks KMS for its own data key (`kms_key_id`; with `consistent`,
  it unwraps the vault's one pseudonym key). `config.policy` travels too (what each type
  becomes).
- Surrogates are a pure function of (key, scope, value): every executor derives the same
  surrogate key (from the local key, or from the vault's one KMS key slot), so a patient's
  notes spread over partitions and executors get the same date offset and the same names.
- Vault rows are written in groups (`config.run.vault_batch` rows per `vault.put`), and a
  row's text is emitted only after its group committed (fail closed). A row that fails gets a
  null text and a reason in `error_column`: never the original note.
- No run journal: an executor cannot tell whether Spark kept a task's output (a retried task
  writes new rows beside the old ones; those orphans are sealed and keyed by texts nobody
  holds).
- SQLite is fine on one machine (`local[N]`): WAL mode plus a 30 s busy timeout let several
  executor processes take turns writing. Production clusters should use DynamoDB: one
  SQLite file cannot be shared safely by executors on different hosts.
"""

from __future__ import annotations

import atexit
import importlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from phiguard.config import Config
from phiguard.errors import Failure
from phiguard.keys.files import load_key
from phiguard.known import KnownPhi
from phiguard.run.deidentifier import Deidentifier
from phiguard.run.records import Item
from phiguard.transform import MaskStyle, masking

__all__ = ["deidentify_column", "mask_column", "surrogate_column"]

Kind = Literal["mask", "deid", "surrogate"]

HASH_COLUMN = "phiguard_message_hash"
ERROR_COLUMN = "phiguard_error"
DEFAULT_VAULT_BATCH = 256  # executors stream whole partitions: bigger groups, fewer commits

# Per executor Python process: built on first use, reused by every later task.
_pipelines: dict[tuple[Config, bool], Deidentifier] = {}


def _pipeline(config: Config, with_vault: bool) -> Deidentifier:
    key = (config, with_vault)
    if key not in _pipelines:
        d = Deidentifier.open(config, vault="write" if with_vault else None)
        atexit.register(d.close)
        _pipelines[key] = d
    return _pipelines[key]


def _patient(value: Any) -> str | None:
    """A patient id cell as text (null, NaN and "" are no id)."""
    if value is None or value != value or value == "":  # NaN != NaN
        return None
    return str(value)


@dataclass(frozen=True, slots=True)
class _Columns:
    """Which columns a transform reads and writes."""

    text: str
    hash: str = HASH_COLUMN
    error: str = ERROR_COLUMN
    patient: str | None = None  # groups a patient's notes (surrogates, date offsets)
    known: str | None = None  # each row's known PHI (a string, list or {TYPE: value} map)


def _known(value: Any) -> KnownPhi | None:
    if isinstance(value, str | list | dict) and value:
        return KnownPhi.of(value, "NAME")
    return None


def _transform(
    config: Config, columns: _Columns, kind: Kind, style: str
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The mapInPandas function: pandas batches in, same rows out with the column rewritten."""
    deid = kind != "mask"
    column, patient_column = columns.text, columns.patient

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        d = _pipeline(config, deid)
        for pdf in batches:
            values = list(pdf[column])
            patients = [_patient(p) for p in pdf[patient_column]] if patient_column else None
            knowns = [_known(k) for k in pdf[columns.known]] if columns.known else None
            unowned = [
                patients is not None and patients[i] is None and isinstance(v, str) and v != ""
                for i, v in enumerate(values)
            ]
            items = (
                Item(
                    i,
                    v if isinstance(v, str) and not unowned[i] else "",
                    known=knowns[i] if knowns is not None else None,
                    patient=patients[i] if patients is not None else None,
                )
                for i, v in enumerate(values)
            )
            texts: list[str | None] = []
            hashes: list[str | None] = []
            errs: list[str | None] = []
            results: Iterator[Any]
            if kind == "deid":
                results = d.deidentify_many(items, journal=None, max_delay=math.inf)
            elif kind == "surrogate":
                results = d.surrogate_many(items, journal=None, max_delay=math.inf)
            else:
                results = d.mask_many(items, style=style, policy=config.policy)
            r: Any
            for r, original, no_patient in zip(results, values, unowned, strict=True):
                if not isinstance(original, str):  # null stays null
                    texts.append(None)
                    hashes.append(None)
                    errs.append(None)
                elif no_patient:  # never surrogated, so never released
                    texts.append(None)
                    hashes.append(None)
                    errs.append(str(Failure("InputError", f"no patient id in {patient_column!r}")))
                elif r.ok:
                    value = r.unwrap()
                    texts.append(value.text if deid else value)
                    hashes.append(value.message_hash if deid else None)
                    errs.append(None)
                else:  # not released: no text, only the PHI-free reason
                    texts.append(None)
                    hashes.append(None)
                    errs.append(str(r.error))
            out = pdf.copy()
            out[column] = texts
            if deid:
                out[columns.hash] = hashes
            out[columns.error] = errs
            yield out

    return run


def _apply(df: Any, columns: _Columns, config: Config, kind: Kind, style: str) -> Any:
    types = importlib.import_module("pyspark.sql.types")
    for name in (columns.text, columns.patient, columns.known):
        if name is not None and name not in df.columns:
            raise ValueError(f"no column {name!r} in the DataFrame")
    fields = list(df.schema.fields)
    if kind != "mask":
        fields.append(types.StructField(columns.hash, types.StringType(), True))
    fields.append(types.StructField(columns.error, types.StringType(), True))
    schema = types.StructType(fields)
    return df.mapInPandas(_transform(config, columns, kind, style), schema)


def _writer_config(config: Config | None) -> Config:
    """Bigger vault groups for executors; a missing local key file created on the driver."""
    config = config or Config()
    if config.run.vault_batch == Config().run.vault_batch:
        config = config.with_run(vault_batch=DEFAULT_VAULT_BATCH)
    if config.keys.kms_key_id is None:
        load_key(config.keys.key_file, create=True)
    return config


def deidentify_column(
    df: Any,
    column: str,
    config: Config | None = None,
    *,
    hash_column: str = HASH_COLUMN,
    error_column: str = ERROR_COLUMN,
    known_column: str | None = None,
) -> Any:
    """`df` with `column` de-identified, plus `hash_column` (the vault's message hash) and
    `error_column` (null, or why the row's text was withheld). Lazy, like any Spark
    transformation. With a local key, a missing key file is created here, on the driver.
    `known_column`: each row's known PHI (the patient's name...), found wherever it occurs."""
    columns = _Columns(column, hash_column, error_column, known=known_column)
    return _apply(df, columns, _writer_config(config), "deid", MaskStyle.HASH.value)


def surrogate_column(
    df: Any,
    column: str,
    config: Config | None = None,
    *,
    patient_column: str | None = None,
    hash_column: str = HASH_COLUMN,
    error_column: str = ERROR_COLUMN,
    known_column: str | None = None,
) -> Any:
    """`df` with `column` replaced by realistic surrogates, dates shifted (one offset per value
    of `patient_column`, whichever partition or executor a note lands on; each note alone
    without it), plus `hash_column` and `error_column` as for `deidentify_column`. A row
    without a patient id, when `patient_column` is given, is withheld with a reason."""
    columns = _Columns(column, hash_column, error_column, patient_column, known_column)
    return _apply(df, columns, _writer_config(config), "surrogate", MaskStyle.HASH.value)


def mask_column(
    df: Any,
    column: str,
    config: Config | None = None,
    *,
    style: MaskStyle | str = MaskStyle.HASH,
    error_column: str = ERROR_COLUMN,
    known_column: str | None = None,
) -> Any:
    """`df` with PHI in `column` masked for good ('#' per character, or `[TYPE]` with
    `style="label"`, or `config.policy` when it only masks, labels and keeps), plus
    `error_column`. No vault, no key."""
    config = config or Config()
    if config.policy is not None:
        masking(config.policy)  # refused here, on the driver, not in every executor
    columns = _Columns(column, error=error_column, known=known_column)
    return _apply(df, columns, config, "mask", MaskStyle(style).value)
