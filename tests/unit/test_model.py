"""The trained model shipped in the package: it loads, finds PHI in several styles, and the
local detector uses it (or not) as asked. Snippets are invented for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from phiguard.detectors.local import model as crf
from phiguard.errors import DetectionError
from phiguard.spans import Span


@pytest.fixture(scope="module")
def model() -> crf.Model:
    return crf.load_model()


def covered(text: str, spans: list[Span], word: str) -> bool:
    start = text.index(word)
    end = start + len(word)
    return any(s.start <= start and end <= s.end for s in spans)


def test_shipped_model_loads_from_the_package(model: crf.Model) -> None:
    assert (crf.default_directory() / crf.MODEL_FILE).is_file()
    assert model.meta["feature_version"] == crf.FEATURE_VERSION
    assert "O" in model.labels and "I-NAME" in model.labels


@pytest.mark.parametrize(
    ("text", "phi"),
    [
        (
            "Can you summarize the labs for Marisol Okonkwo-Vance, seen on 3/14/2021?",
            ["Marisol", "Okonkwo", "3/14/2021"],
        ),
        ("PT SEEN BY DR. THORVALDSEN, WIFE BRIGITTA AT BEDSIDE.", ["THORVALDSEN", "BRIGITTA"]),
        (
            "spoke with daughter ngozi re plan, she can be reached at 617-555-0143.",
            ["ngozi", "617-555-0143"],
        ),
        (
            "Discharged to Pinecrest Valley Medical Center on 04/02/2019.",
            ["Pinecrest", "04/02/2019"],
        ),
        ("Anna S. called from Ljubljana about her mother.", ["Anna", "S", "Ljubljana"]),
    ],
)
def test_model_finds_phi_in_many_styles(model: crf.Model, text: str, phi: list[str]) -> None:
    spans = model.predict([text])[0]
    for word in phi:
        assert covered(text, spans, word), word
    for s in spans:
        assert 0.0 < s.score <= 1.0 and s.source == crf.SOURCE


def test_model_leaves_clinical_look_alikes_alone(model: crf.Model) -> None:
    text = "Foley in place, Babinski neg, GCS 15, Apgar 9. Will cont lasix 40 mg at 0800."
    assert model.predict([text]) == [[]]


def test_batch_predictions_match_single_ones(model: crf.Model) -> None:
    texts = ["Mr. Abernathy-Quince is 94 years old.", "", "no phi here", "Dr. Ilunga paged."]
    batch = model.predict(texts)
    assert batch == [model.predict([t])[0] for t in texts]
    assert batch[1] == []


def test_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DetectionError, match="trained model not found"):
        crf.load_model(str(tmp_path))


def test_local_detector_adds_model_spans_and_can_turn_them_off() -> None:
    from phiguard.detectors import get_detector

    text = "Can you check the referral letter for Tadeusz Wroblewski-Amadi?"
    on = get_detector("local").detect(text)
    off = get_detector("local", trained_model=False).detect(text)
    assert any("local:model" in s.source for s in on)
    assert not any("local:model" in s.source for s in off)
    assert covered(text, on, "Wroblewski")
