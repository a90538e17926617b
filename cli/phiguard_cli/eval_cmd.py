"""`phiguard eval`: a thin wrapper over `phiguard.evaluation` (options in, report out).

It takes the same detector options as `detect`/`mask`/`deid` and builds the detector and
resolver the same way, so it scores exactly what those commands would remove.

Exit codes (docs/cli.md): 0 done (with --targets: every target met); 8 a target was missed;
2 bad options; 3 a gold file is missing or malformed; 4 the detector failed.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from phiguard import Deidentifier
from phiguard.errors import PhiguardError
from phiguard.evaluation import (
    EXIT_TARGETS_FAILED,
    EvalReport,
    TargetResult,
    annotated_age_policy,
    check_targets,
    default_targets,
    evaluate,
    format_json,
    format_targets,
    format_text,
    load_gold,
)
from phiguard_cli import options
from phiguard_cli.options import detector_options


@click.command("eval")
@click.argument("gold", nargs=-1, required=True, type=click.Path())
@detector_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--show-misses",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Print up to N misses and N false positives per file WITH CONTEXT (this is PHI).",
)
@click.option(
    "--targets",
    is_flag=True,
    help=f"Check the project's targets; exit {EXIT_TARGETS_FAILED} if any is missed.",
)
def eval_command(**opts: Any) -> None:
    """Score a detector against gold PHI annotations (JSONL corpora, sample .json files).

    Reports token-level and entity-level (overlap, exact) precision, recall, F1 and F2,
    recall per gold label and precision per predicted type. The output holds no note text
    unless --show-misses is given. Without --age-policy, the local detector follows each gold
    file's own age convention (docs/benchmarks.md).
    """
    fmt: str = opts["fmt"]
    targets: bool = opts["targets"]
    try:
        golds = [load_gold(path) for path in opts["gold"]]  # all inputs checked first
        reports: list[EvalReport] = []
        results: list[TargetResult] = []
        for gold in golds:
            file_opts = dict(opts)
            config: list[tuple[str, str]] = [("backend", opts["backend"])]
            if opts["backend"] == "local":
                file_opts["age_policy"] = opts["age_policy"] or annotated_age_policy(gold)
                config.append(("age_policy", file_opts["age_policy"]))
            if opts["threshold"]:
                config.append(("threshold", f"{opts['threshold']:g}"))
            d = Deidentifier.open(options.config(file_opts))
            report = evaluate(
                gold,
                d.detector,
                d.resolver,
                show_misses=opts["show_misses"],
                config=config,
                warm_up=opts["backend"] == "local",  # model load is not throughput
            )
            reports.append(report)
            if targets:
                results += check_targets(report, default_targets(gold))
    except PhiguardError as exc:  # same line and code as phiguard_cli.main, for direct use
        click.echo(f"phiguard: error: {exc}", err=True)
        sys.exit(exc.exit_code)

    if fmt == "json":
        click.echo(format_json(reports, results if targets else None))
    else:
        click.echo("\n\n".join(format_text(r) for r in reports))
        if targets:
            click.echo("\ntargets\n" + format_targets(results))
    if targets and any(r.passed is False for r in results):
        sys.exit(EXIT_TARGETS_FAILED)
