"""phiguard.run.spark on a real local[2] Spark session: de-identify and mask a column, one
pipeline per executor process, vault rows written in groups, failed rows withheld."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "pyspark", reason="pyspark is not installed (pip install -e '.[spark]'; run: make test-spark)"
)
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime (17+)", allow_module_level=True)

from phiguard import Deidentifier, Sealer, load_key, open_vault
from phiguard.resolve import Resolver
from phiguard.run.spark import SparkPipeline, deidentify_column, mask_column

NOTES = [
    "Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar.",
    "Daughter Maria called from 617-555-0134.",
    "Vitals stable, 500 mg given.",
    "Mr. Jackson, MRN 4452781, admitted 3/4/2011.",
    "Wife Ana Ruiz at bedside.",
    None,
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("phiguard-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _frame(spark: Any) -> Any:
    rows = [(f"n{i}", text, i) for i, text in enumerate(NOTES)]
    return spark.createDataFrame(rows, "id string, text string, ward int").repartition(2)


def test_deidentify_column_round_trips_through_the_sqlite_vault(spark: Any, tmp_path: Path) -> None:
    config = SparkPipeline(
        vault_path=str(tmp_path / "vault.db"), key_file=str(tmp_path / "key"), vault_batch=2
    )
    out = deidentify_column(_frame(spark), "text", config).collect()
    assert sorted(r["id"] for r in out) == [f"n{i}" for i in range(len(NOTES))]
    by_id = {r["id"]: r for r in out}
    assert by_id["n5"]["text"] is None and by_id["n5"]["phiguard_error"] is None
    assert all(r["phiguard_error"] is None for r in out)
    text = " ".join(r["text"] or "" for r in out)
    assert "Salazar" not in text and "617-555-0134" not in text and "500 mg" in text
    assert by_id["n0"]["ward"] == 0 and len(by_id["n0"]["phiguard_message_hash"]) == 64
    vault = open_vault("sqlite", path=tmp_path / "vault.db", create=False)
    d = Deidentifier("local", vault=vault, sealer=Sealer(load_key(tmp_path / "key")))
    try:
        for i, note in enumerate(NOTES[:5]):
            assert d.reidentify(by_id[f"n{i}"]["text"]) == note
    finally:
        vault.close()


def test_mask_column_with_labels_and_entity_filter(spark: Any) -> None:
    config = SparkPipeline(resolver=Resolver(entities=frozenset({"DATE"})), mask_style="label")
    out = {r["id"]: r for r in mask_column(_frame(spark), "text", config).collect()}
    assert "[DATE]" in out["n0"]["text"] and "Carlos" in out["n0"]["text"]
    assert "phiguard_message_hash" not in out["n0"].asDict()
    assert out["n2"]["text"] == NOTES[2]


def test_executors_build_the_pipeline_once_per_process(spark: Any) -> None:
    """Every batch a Python worker sees gets the same cached pipeline object."""

    def probe(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        from phiguard.run import spark as ps

        for pdf in batches:
            d, _ = ps._pipeline(SparkPipeline(), False)
            yield pd.DataFrame({"pid": [os.getpid()] * len(pdf), "obj": [id(d)] * len(pdf)})

    frame = spark.range(40).selectExpr("cast(id as string) as text").repartition(4)
    rows = frame.mapInPandas(probe, "pid long, obj long").collect()
    per_pid: dict[int, set[int]] = {}
    for r in rows:
        per_pid.setdefault(r["pid"], set()).add(r["obj"])
    assert len(rows) == 40 and all(len(objs) == 1 for objs in per_pid.values())
