"""Scoring detectors against gold PHI annotations: the library behind `phiguard eval`.

`gold` loads annotations, `scoring` runs a detector and scores it (token and entity level),
`targets` checks the project's accuracy targets, `report` formats the result.
"""

from phiguard.evaluation.gold import (
    GoldRecord,
    GoldSet,
    GoldSpan,
    annotated_age_policy,
    load_gold,
)
from phiguard.evaluation.report import (
    format_json,
    format_targets,
    format_text,
)
from phiguard.evaluation.scoring import (
    LEVELS,
    EvalReport,
    Example,
    LevelScores,
    Postprocess,
    Scores,
    detect_all,
    evaluate,
    score,
)
from phiguard.evaluation.targets import (
    CORPUS_TARGETS,
    EXIT_TARGETS_FAILED,
    SAMPLE_TARGETS,
    Target,
    TargetResult,
    TargetsNotMet,
    check_targets,
    default_targets,
)

__all__ = [
    "CORPUS_TARGETS",
    "EXIT_TARGETS_FAILED",
    "LEVELS",
    "SAMPLE_TARGETS",
    "EvalReport",
    "Example",
    "GoldRecord",
    "GoldSet",
    "GoldSpan",
    "LevelScores",
    "Postprocess",
    "Scores",
    "Target",
    "TargetResult",
    "TargetsNotMet",
    "annotated_age_policy",
    "check_targets",
    "default_targets",
    "detect_all",
    "evaluate",
    "format_json",
    "format_targets",
    "format_text",
    "load_gold",
    "score",
]
