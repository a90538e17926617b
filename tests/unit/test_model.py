"""The trained model shipped in the package: it loads, finds PHI in several styles, and the
local detector uses it (or not) as asked. Snippets are invented for these tests."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
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


def _brute_force_marginals(model: crf.Model, e: np.ndarray) -> np.ndarray:
    """P(label at t) by enumerating every label sequence: the definition forward-backward
    computes."""
    n_labels = e.shape[1]
    log_trans = np.log(model._exp_trans)
    seqs = np.array(list(itertools.product(range(n_labels), repeat=len(e))))
    score = e[np.arange(len(e)), seqs].sum(axis=1)
    score += log_trans[seqs[:, :-1], seqs[:, 1:]].sum(axis=1)
    prob = np.exp(score - score.max())
    prob /= prob.sum()
    out = np.zeros_like(e)
    for t in range(len(e)):
        np.add.at(out[t], seqs[:, t], prob)
    return out


@pytest.mark.parametrize("length", [1, 2, 4])
def test_marginals_match_enumeration_for_one_document_and_a_batch(
    model: crf.Model, length: int
) -> None:
    rng = np.random.default_rng(length)
    n_labels = len(model.labels)
    e = rng.normal(0, 3, (length, n_labels))
    other = rng.normal(0, 3, (3, n_labels))
    expected = _brute_force_marginals(model, e)
    (alone,) = model.marginals([e])  # the one-document path a single request takes
    batched = model.marginals([e, other])[0]
    assert np.allclose(alone, expected, atol=1e-9)
    assert np.allclose(batched, expected, atol=1e-9)


def test_model_spans_leave_punctuation_at_their_ends_out() -> None:
    """The tagger may label the ": " after "MRN" as part of the ID; the span must not cover it
    (a masked note would lose its separator), and a span of punctuation alone is dropped."""
    text = "MRN: RQ36114734 (seen) ;"
    tokens = crf.tokenize(text)
    words = [t.text for t in tokens]
    labels = ["O"] + ["I-ID" if t.start < text.index(" (") else "O" for t in tokens[1:]]
    labels[words.index(";")] = "I-NAME"
    spans = crf.spans_from_labels(tokens, labels, [0.9] * len(tokens))
    assert [(text[s.start : s.end], s.type) for s in spans] == [("RQ36114734", "ID")]
