"""A Lambda's pipeline, described by its environment and built once per container.

| variable | meaning |
|---|---|
| `PHIGUARD_BACKEND` | `comprehend` (default) or `local` (the container image) |
| `PHIGUARD_TABLE` | the DynamoDB vault table (`<table>-keys`, `<table>-audit` beside it) |
| `PHIGUARD_KMS_KEY_ID` | writers seal with a fresh data key of this KMS key (recommended) |
| `PHIGUARD_KEY` | or: a base64 AES-256 key (writers and readers), e.g. from Secrets Manager |
| `PHIGUARD_THRESHOLD`, `PHIGUARD_ENTITIES` | resolver: minimum score, PHI types kept |
| `PHIGUARD_CONSISTENT` | `true`: same value, same token (see docs/security.md) |
| `PHIGUARD_WORKERS` | concurrent DetectPHI requests of a batch (default 1) |
| `PHIGUARD_MAX_TPS`, `PHIGUARD_MAX_CPS` | DetectPHI quotas of a batch, per container |
| `AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>` | boto3's own: region, endpoints |

Nothing secret is logged or kept beyond what `Deidentifier.open` keeps. A writer with neither
`PHIGUARD_KMS_KEY_ID` nor `PHIGUARD_KEY` is refused: a Lambda has no key file, and a key made
up in the container would be lost with it, and with it every mapping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from phiguard.config import (
    DEFAULT_TABLE,
    Config,
    DetectorConfig,
    KeyConfig,
    RunOptions,
    StoreConfig,
)
from phiguard.detectors.base import Metered
from phiguard.errors import ConfigError
from phiguard.resolve import Resolver
from phiguard.run.deidentifier import Deidentifier
from phiguard.run.limits import Quota, QuotaLimiter

BACKENDS = ("comprehend", "local")


class Role(StrEnum):
    """What a function does with the vault: detect only, write to it, or read from it."""

    DETECT = "detect"
    WRITE = "write"
    READ = "read"


def _float(env: Mapping[str, str], name: str) -> float | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None


def config_from_env(env: Mapping[str, str] | None = None) -> Config:
    """The `Config` the environment describes (module docstring)."""
    env = os.environ if env is None else env
    backend = env.get("PHIGUARD_BACKEND", "comprehend").strip() or "comprehend"
    if backend not in BACKENDS:
        raise ConfigError(f"PHIGUARD_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    if backend == "comprehend":
        detector = DetectorConfig.of("comprehend", region=region)
    else:
        detector = DetectorConfig.of("local", age_policy=env.get("PHIGUARD_AGE_POLICY") or None)
    entities = frozenset(
        e.strip().upper() for e in env.get("PHIGUARD_ENTITIES", "").split(",") if e.strip()
    )
    resolver = Resolver(
        threshold=_float(env, "PHIGUARD_THRESHOLD") or 0.0, entities=entities or None
    )
    store = StoreConfig("dynamodb", table=env.get("PHIGUARD_TABLE") or DEFAULT_TABLE, region=region)
    keys = KeyConfig(
        kms_key_id=env.get("PHIGUARD_KMS_KEY_ID") or None,
        consistent=env.get("PHIGUARD_CONSISTENT", "").strip().lower() in ("1", "true", "yes"),
    )
    workers = _float(env, "PHIGUARD_WORKERS") or 1
    run = RunOptions(
        workers=int(workers),
        max_tps=_float(env, "PHIGUARD_MAX_TPS"),
        max_cps=_float(env, "PHIGUARD_MAX_CPS"),
    )
    return Config(detector, resolver, store, keys, run)


_pipelines: dict[Role, Deidentifier] = {}


def pipeline(role: Role) -> Deidentifier:
    """This container's pipeline for `role`, built on first use and kept for later
    invocations (the model, clients and data key are reused)."""
    found = _pipelines.get(role)
    if found is not None:
        return found
    from phiguard.aws_lambda.runtime import DeadlineGate

    config = config_from_env()
    if role is Role.WRITE and not config.keys.kms_key_id and not os.environ.get("PHIGUARD_KEY"):
        raise ConfigError(
            "a writing function needs PHIGUARD_KMS_KEY_ID (recommended) or PHIGUARD_KEY: a "
            "Lambda has no key file, and a key made up here would be lost with the container"
        )
    d = Deidentifier.open(config, vault=None if role is Role.DETECT else role.value)
    if role is not Role.READ and isinstance(d.detector, Metered):
        quota = Quota.of(config.run.max_tps, config.run.max_cps)
        d.detector.limiter = DeadlineGate(QuotaLimiter(quota))
    _pipelines[role] = d
    return d


def reset() -> None:
    """Forget the built pipelines (closing their vaults): the next invocation reads the
    environment again. For tests, and for library users embedding the handlers."""
    for d in _pipelines.values():
        d.close()
    _pipelines.clear()
