"""De-identify or mask a Spark DataFrame column (needs the `spark` extra: pyspark, pandas,
pyarrow).

    from phiguard import Config, StoreConfig, KeyConfig
    from phiguard.run.spark import deidentify_column
    cfg = Config(store=StoreConfig("dynamodb", table="phiguard-vault", region="us-east-1"),
                 keys=KeyConfig(kms_key_id="alias/phiguard"))
    out = deidentify_column(df, "note_text", cfg)   # lazy: runs when `out` is written

Why it is built this way:

- `mapInPandas` hands each Python worker Arrow batches of rows, so the pipeline (spaCy
  model, vault connection, keys) is built **once per executor Python process** from the
  `Config` and cached at module level, never per row or per batch; Spark reuses Python
  workers across tasks.
- Only the small, picklable `Config` travels with the task: the same one the CLI builds, so
  Spark has every option the CLI has (KMS data keys, consistent pseudonyms, resolver lists).
  No key travels: each executor loads it itself (`key_file`, or `$PHIGUARD_KEY` in the
  executor environment), or asks KMS for its own data key (`kms_key_id`; with `consistent`,
  it unwraps the vault's one pseudonym key).
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
from typing import Any

from phiguard.config import Config
from phiguard.keys.files import load_key
from phiguard.known import KnownPhi
from phiguard.run.deidentifier import Deidentifier
from phiguard.run.records import Item
from phiguard.transform import MaskStyle

__all__ = ["deidentify_column", "mask_column"]

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


@dataclass(frozen=True, slots=True)
class _Columns:
    """Which columns a transform reads and writes."""

    text: str
    hash: str
    error: str
    known: str | None = None  # each row's known PHI (a string, list or {TYPE: value} map)


def _known(value: Any) -> KnownPhi | None:
    if isinstance(value, str | list | dict) and value:
        return KnownPhi.of(value, "NAME")
    return None


def _transform(
    config: Config, columns: _Columns, deid: bool, style: str
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The mapInPandas function: pandas batches in, same rows out with the column rewritten."""
    column, hash_column, error_column = columns.text, columns.hash, columns.error

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        d = _pipeline(config, deid)
        for pdf in batches:
            values = list(pdf[column])
            knowns = list(pdf[columns.known]) if columns.known else [None] * len(values)
            items = (
                Item(i, v if isinstance(v, str) else "", known=_known(k))
                for i, (v, k) in enumerate(zip(values, knowns, strict=True))
            )
            texts: list[str | None] = []
            hashes: list[str | None] = []
            errs: list[str | None] = []
            if deid:
                results: Iterator[Any] = d.deidentify_many(items, journal=None, max_delay=math.inf)
            else:
                results = d.mask_many(items, style=style)
            for r, original in zip(results, values, strict=True):
                if not isinstance(original, str):  # null stays null
                    texts.append(None)
                    hashes.append(None)
                    errs.append(None)
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
                out[hash_column] = hashes
            out[error_column] = errs
            yield out

    return run


def _apply(df: Any, columns: _Columns, config: Config, deid: bool, style: str) -> Any:
    types = importlib.import_module("pyspark.sql.types")
    for name in (columns.text, columns.known):
        if name is not None and name not in df.columns:
            raise ValueError(f"no column {name!r} in the DataFrame")
    fields = list(df.schema.fields)
    if deid:
        fields.append(types.StructField(columns.hash, types.StringType(), True))
    fields.append(types.StructField(columns.error, types.StringType(), True))
    schema = types.StructType(fields)
    return df.mapInPandas(_transform(config, columns, deid, style), schema)


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
    config = config or Config()
    if config.run.vault_batch == Config().run.vault_batch:
        config = config.with_run(vault_batch=DEFAULT_VAULT_BATCH)
    if config.keys.kms_key_id is None:
        load_key(config.keys.key_file, create=True)
    columns = _Columns(column, hash_column, error_column, known_column)
    return _apply(df, columns, config, True, MaskStyle.HASH.value)


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
    `style="label"`), plus `error_column`. No vault, no key."""
    config = config or Config()
    columns = _Columns(column, HASH_COLUMN, error_column, known_column)
    return _apply(df, columns, config, False, MaskStyle(style).value)
