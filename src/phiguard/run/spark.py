"""De-identify or mask a Spark DataFrame column (needs the `spark` extra: pyspark, pandas,
pyarrow).

    from phiguard.run.spark import SparkPipeline, deidentify_column
    cfg = SparkPipeline(store="dynamodb", table="phiguard-vault", region="us-east-1")
    out = deidentify_column(df, "note_text", cfg)   # lazy: runs when `out` is written

Why it is built this way:

- `mapInPandas` hands each Python worker Arrow batches of rows, so the pipeline (spaCy
  model, vault connection, key) is built **once per executor Python process** and cached
  at module level, never per row or per batch; Spark reuses Python workers across tasks.
- Only the small, picklable `SparkPipeline` travels with the task. The AES key does not:
  each executor loads it itself (`key_file`, or `$PHIGUARD_KEY` in the executor
  environment; on a cluster inject it from your secret manager).
- Vault rows are written in groups (`vault_batch` rows per `vault.put`: one SQLite
  transaction, DynamoDB batches of 25), and a row's text is emitted only after its group
  committed (fail closed). A row that fails gets a null text and a reason in
  `error_column`: never the original note.
- SQLite is fine on one machine (`local[N]`): WAL mode plus a 30 s busy timeout let several
  executor processes take turns writing. Production clusters should use DynamoDB: one
  SQLite file cannot be shared safely by executors on different hosts.
"""

from __future__ import annotations

import atexit
import importlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from phiguard.keys.files import load_key
from phiguard.keys.sealer import Sealer
from phiguard.resolve import Resolver
from phiguard.run.batch import Item, PipelineConfig, deidentify_many, mask_many
from phiguard.run.deidentifier import Deidentifier
from phiguard.transform import MaskStyle
from phiguard.vaults import open_vault
from phiguard.vaults.base import Vault

__all__ = ["SparkPipeline", "deidentify_column", "mask_column"]

HASH_COLUMN = "phiguard_message_hash"
ERROR_COLUMN = "phiguard_error"


@dataclass(frozen=True)
class SparkPipeline:
    """Everything an executor needs to build its pipeline; hashable (the cache key) and
    picklable. Vault fields mirror `phiguard.vaults.open_vault`."""

    backend: str = "local"
    detector_options: tuple[tuple[str, Any], ...] = ()
    resolver: Resolver = field(default_factory=Resolver)
    store: str = "sqlite"
    vault_path: str | None = None
    table: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    key_file: str | None = None
    vault_batch: int = 256
    mask_style: str = MaskStyle.HASH.value


# Per executor Python process: built on first use, reused by every later task.
_pipelines: dict[tuple[SparkPipeline, bool], tuple[Deidentifier, Vault | None]] = {}


def _pipeline(config: SparkPipeline, with_vault: bool) -> tuple[Deidentifier, Vault | None]:
    key = (config, with_vault)
    if key not in _pipelines:
        detector, resolver = PipelineConfig(
            config.backend, config.detector_options, config.resolver
        ).build()
        vault: Vault | None = None
        sealer: Sealer | None = None
        if with_vault:
            sealer = Sealer(load_key(config.key_file))
            vault = open_vault(
                config.store,
                path=config.vault_path,
                table=config.table,
                region=config.region,
                endpoint_url=config.endpoint_url,
                profile=config.profile,
            )
            atexit.register(vault.close)
        _pipelines[key] = (
            Deidentifier(detector, resolver=resolver, vault=vault, sealer=sealer),
            vault,
        )
    return _pipelines[key]


def _transform(
    config: SparkPipeline, column: str, deid: bool, hash_column: str, error_column: str
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The mapInPandas function: pandas batches in, same rows out with the column rewritten."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        d, _ = _pipeline(config, deid)
        for pdf in batches:
            values = list(pdf[column])
            items = (Item(i, v if isinstance(v, str) else "") for i, v in enumerate(values))
            texts: list[str | None] = []
            hashes: list[str | None] = []
            errs: list[str | None] = []
            if deid:
                results: Iterator[Any] = deidentify_many(
                    items, d, vault_batch=config.vault_batch, max_delay=math.inf
                )
            else:
                results = mask_many(items, d, style=config.mask_style)
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
                    errs.append(r.error)
            out = pdf.copy()
            out[column] = texts
            if deid:
                out[hash_column] = hashes
            out[error_column] = errs
            yield out

    return run


def _apply(
    df: Any, column: str, config: SparkPipeline, deid: bool, hash_column: str, error_column: str
) -> Any:
    types = importlib.import_module("pyspark.sql.types")
    if column not in df.columns:
        raise ValueError(f"no column {column!r} in the DataFrame")
    fields = list(df.schema.fields)
    if deid:
        fields.append(types.StructField(hash_column, types.StringType(), True))
    fields.append(types.StructField(error_column, types.StringType(), True))
    schema = types.StructType(fields)
    return df.mapInPandas(_transform(config, column, deid, hash_column, error_column), schema)


def deidentify_column(
    df: Any,
    column: str,
    config: SparkPipeline | None = None,
    *,
    hash_column: str = HASH_COLUMN,
    error_column: str = ERROR_COLUMN,
) -> Any:
    """`df` with `column` de-identified, plus `hash_column` (the vault's message hash) and
    `error_column` (null, or why the row's text was withheld). Lazy, like any Spark
    transformation. A missing key file is created here, on the driver, for local runs."""
    config = config or SparkPipeline()
    load_key(config.key_file, create=True)
    return _apply(df, column, config, True, hash_column, error_column)


def mask_column(
    df: Any,
    column: str,
    config: SparkPipeline | None = None,
    *,
    error_column: str = ERROR_COLUMN,
) -> Any:
    """`df` with PHI in `column` masked for good ('#' per character, or `[TYPE]` with
    `mask_style="label"`), plus `error_column`. No vault, no key."""
    return _apply(df, column, config or SparkPipeline(), False, HASH_COLUMN, error_column)
