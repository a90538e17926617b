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

import boto3

from phiguard import (
    Config,
    Deidentifier,
    KeyConfig,
    RunOptions,
    Sealer,
    StoreConfig,
    load_key,
    open_vault,
)
from phiguard.resolve import Resolver
from phiguard.run.spark import deidentify_column, mask_column
from support.dynamodb_server import fake_aws_env
from support.moto_server import moto_server

NOTES = [
    "Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar.",
    "Daughter Maria called from 617-555-0134.",
    "Vitals stable, 500 mg given.",
    "Mr. Jackson, MRN 4452781, admitted 3/4/2011.",
    "Wife Ana Ruiz at bedside.",
    None,
]


@pytest.fixture(scope="module")
def kms_endpoint() -> Iterator[str]:
    """moto_server for KMS, set in the environment before Spark starts its Python workers (they
    inherit it): executors reach it through AWS_ENDPOINT_URL_KMS, as on a cluster."""
    with fake_aws_env(), moto_server() as endpoint:
        old = os.environ.get("AWS_ENDPOINT_URL_KMS")
        os.environ["AWS_ENDPOINT_URL_KMS"] = endpoint
        try:
            yield endpoint
        finally:
            if old is None:
                os.environ.pop("AWS_ENDPOINT_URL_KMS", None)
            else:
                os.environ["AWS_ENDPOINT_URL_KMS"] = old


@pytest.fixture(scope="module")
def spark(kms_endpoint: str) -> Iterator[Any]:
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
    config = Config(
        store=StoreConfig(path=str(tmp_path / "vault.db")),
        keys=KeyConfig(key_file=str(tmp_path / "key")),
        run=RunOptions(vault_batch=2),
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
    config = Config(resolver=Resolver(entities=frozenset({"DATE"})))
    out = {r["id"]: r for r in mask_column(_frame(spark), "text", config, style="label").collect()}
    assert "[DATE]" in out["n0"]["text"] and "Carlos" in out["n0"]["text"]
    assert "phiguard_message_hash" not in out["n0"].asDict()
    assert out["n2"]["text"] == NOTES[2]


def test_executors_build_the_pipeline_once_per_process(spark: Any) -> None:
    """Every batch a Python worker sees gets the same cached pipeline object."""

    def probe(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        from phiguard.run import spark as ps

        for pdf in batches:
            d = ps._pipeline(Config(), False)
            yield pd.DataFrame({"pid": [os.getpid()] * len(pdf), "obj": [id(d)] * len(pdf)})

    frame = spark.range(40).selectExpr("cast(id as string) as text").repartition(4)
    rows = frame.mapInPandas(probe, "pid long, obj long").collect()
    per_pid: dict[int, set[int]] = {}
    for r in rows:
        per_pid.setdefault(r["pid"], set()).add(r["obj"])
    assert len(rows) == 40 and all(len(objs) == 1 for objs in per_pid.values())


def _kms_key(endpoint: str) -> str:
    kms = boto3.client("kms", region_name="us-east-1", endpoint_url=endpoint)
    return str(kms.create_key(Description="phiguard spark test")["KeyMetadata"]["Arn"])


def test_deidentify_column_with_kms_data_keys(
    spark: Any, kms_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Executors seal with their own KMS data keys (stored wrapped before use); no key file."""
    monkeypatch.setenv("PHIGUARD_HOME", str(tmp_path / "home"))
    config = Config(
        store=StoreConfig(path=str(tmp_path / "vault.db")),
        keys=KeyConfig(kms_key_id=_kms_key(kms_endpoint)),
    )
    out = {r["id"]: r for r in deidentify_column(_frame(spark), "text", config).collect()}
    assert all(r["phiguard_error"] is None for r in out.values())
    assert not (tmp_path / "home" / "key").exists(), "KMS runs need no local key file"
    vault = open_vault("sqlite", path=tmp_path / "vault.db", create=False)
    try:
        wrapped = vault.wrapped_keys()  # type: ignore[attr-defined]
        sealed_with = {
            r.key_id for i in range(5) for r in vault.get(out[f"n{i}"]["phiguard_message_hash"])
        }
    finally:
        vault.close()
    assert 1 <= len(wrapped) <= 2 and sealed_with <= {k.key_id for k in wrapped}
    with Deidentifier.open(config, vault="read") as d:
        for i, note in enumerate(NOTES[:5]):
            assert d.reidentify(out[f"n{i}"]["text"]) == note


def test_consistent_pseudonyms_hold_across_executors(
    spark: Any, kms_endpoint: str, tmp_path: Path
) -> None:
    """With consistent=True every executor unwraps the vault's one pseudonym key: the same
    name gets the same token in every partition, and on the driver."""
    config = Config(
        store=StoreConfig(path=str(tmp_path / "vault.db")),
        keys=KeyConfig(kms_key_id=_kms_key(kms_endpoint), consistent=True),
    )
    rows = [(f"r{i}", f"Seen by Dr. Sarkar on visit {i}.") for i in range(8)]
    frame = spark.createDataFrame(rows, "id string, text string").repartition(4)
    out = deidentify_column(frame, "text", config).collect()
    texts = {r["text"] for r in out}
    tokens = {t.split("Dr. ")[1].split(" ")[0] for t in texts}
    assert len(out) == 8 and len(tokens) == 1 and "Sarkar" not in " ".join(texts)
    with Deidentifier.open(config, vault="write") as d:
        assert d.deidentify("Seen by Dr. Sarkar on visit 0.").text in texts
    with Deidentifier.open(config, vault="read") as d:
        assert sorted(d.reidentify(t) for t in texts) == sorted(t for _, t in rows)


def test_surrogate_column_keeps_a_patients_offset_across_executors(
    spark: Any, kms_endpoint: str, tmp_path: Path
) -> None:
    """A patient's notes spread over partitions and executors move by the patient's one
    offset (from the vault's KMS slot); each row re-identifies; a row with no patient id is
    withheld with a reason, never released as it was."""
    from datetime import datetime

    from phiguard.run.spark import surrogate_column

    config = Config(
        store=StoreConfig(path=str(tmp_path / "vault.db")),
        keys=KeyConfig(kms_key_id=_kms_key(kms_endpoint)),
    )
    rows = [(f"r{i}", f"P{i % 2}", f"Seen by Dr. Sarkar on 03/{i + 1:02d}/2012.") for i in range(8)]
    rows.append(("r8", None, "Seen by Dr. Sarkar on 04/01/2012."))
    frame = spark.createDataFrame(rows, "id string, patient string, text string").repartition(4)
    out = {
        r["id"]: r
        for r in surrogate_column(frame, "text", config, patient_column="patient").collect()
    }
    assert out["r8"]["text"] is None and "no patient id" in out["r8"]["phiguard_error"]
    moved: dict[str, set[int]] = {}
    for rid, patient, text in rows[:8]:
        new = out[rid]["text"]
        assert out[rid]["phiguard_error"] is None and "Sarkar" not in new
        before = datetime.strptime(text.split(" on ")[1], "%m/%d/%Y.")
        after = datetime.strptime(new.split(" on ")[1], "%m/%d/%Y.")
        moved.setdefault(str(patient), set()).add((after - before).days)
    from phiguard.keys.derived import derive_surrogate_key
    from phiguard.keys.kms import KmsKeyring
    from phiguard.surrogates import date_offset

    vault = open_vault("sqlite", path=tmp_path / "vault.db", create=False)
    kms = boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)
    skey = derive_surrogate_key(KmsKeyring(vault.key_store(), kms).pseudonym_key(None))
    vault.close()
    assert moved == {p: {date_offset(skey, p)} for p in ("P0", "P1")}, "the patient's own offset"
    with Deidentifier.open(config, vault="read") as d:
        assert [d.reidentify(out[rid]["text"]) for rid, _, _ in rows[:8]] == [
            t for _, _, t in rows[:8]
        ]
