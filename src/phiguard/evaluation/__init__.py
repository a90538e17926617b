"""Scoring detectors against gold PHI annotations (the library behind `phiguard eval`)."""
