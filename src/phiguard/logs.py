"""Logging that cannot leak PHI: only phiguard's own loggers ever go below ERROR.

phiguard logs offsets, types, counts and hashes. Third-party libraries (Presidio, spaCy,
botocore, pynamodb) may log request bodies or analyzed text at DEBUG, and Presidio warns about
unmapped spaCy labels on every run, so they are held at ERROR whatever --debug says.
"""

from __future__ import annotations

import logging
import sys

THIRD_PARTY = (
    "presidio-analyzer",
    "presidio-anonymizer",
    "spacy",
    "botocore",
    "boto3",
    "urllib3",
    "pynamodb",
    "py4j",
)


def configure_logging(*, debug: bool = False, quiet: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("phiguard: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.ERROR)
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    logging.getLogger("phiguard").setLevel(level)
    logging.getLogger("phiguard_cli").setLevel(level)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.ERROR)
