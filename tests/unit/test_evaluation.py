"""Tests for phiguard.evaluation and the `phiguard eval` command (stub detectors only)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.detectors import BaseDetector
from phiguard.errors import DetectionError, InputError
from phiguard.evaluation import (
    CORPUS_TARGETS,
    SAMPLE_TARGETS,
    GoldRecord,
    GoldSet,
    GoldSpan,
    Scores,
    check_targets,
    default_targets,
    evaluate,
    format_json,
    format_targets,
    format_text,
    load_gold,
    score,
)
from phiguard.spans import Span

# Tokens: Pt John Smith seen 3 4 at GH Call 555 1234
TEXT = "Pt John Smith seen 3/4 at GH. Call 555-1234."
GOLD = GoldRecord(
    "doc1",
    TEXT,
    (
        GoldSpan(3, 7, "NAME"),
        GoldSpan(8, 13, "NAME"),
        GoldSpan(19, 22, "DATE"),
        GoldSpan(26, 28, "LOCATION"),
        GoldSpan(35, 43, "PHONE"),
    ),
)
PRED = [
    Span(3, 13, "NAME"),  # "John Smith": one span over two gold spans
    Span(19, 22, "DATE"),  # exact
    Span(30, 34, "NAME"),  # "Call": false positive
    Span(35, 38, "PHONE_OR_FAX"),  # "555": half the phone number
]


class ListDetector(BaseDetector):
    """Returns canned spans per text."""

    name = "stub"

    def __init__(self, by_text: dict[str, list[Span]]) -> None:
        self.by_text = by_text
        self.calls = 0

    def detect(self, text: str) -> list[Span]:
        self.calls += 1
        return list(self.by_text.get(text, []))


class BatchDetector(ListDetector):
    def __init__(self, by_text: dict[str, list[Span]]) -> None:
        super().__init__(by_text)
        self.batches = 0

    def detect_many(self, texts: list[str]) -> list[list[Span]]:
        self.batches += 1
        return [list(self.by_text.get(t, [])) for t in texts]


class RegexDetector(BaseDetector):
    """A crude detector: capitalised words are names, digit groups are IDs."""

    name = "regex"

    def detect(self, text: str) -> list[Span]:
        return [
            Span(m.start(), m.end(), "NAME" if m.group()[0].isalpha() else "ID", 0.5)
            for m in re.finditer(r"\b[A-Z][a-z]+\b|\d+", text)
        ]


def gold_detector(records: list[GoldRecord] | tuple[GoldRecord, ...]) -> ListDetector:
    return ListDetector({r.text: [Span(g.start, g.end, g.label) for g in r.spans] for r in records})


# --------------------------------------------------------------------------- metrics


def test_scores_by_hand() -> None:
    report = score([GOLD], [PRED])
    tok = report.levels["token"]
    # gold tokens John Smith 3 4 GH 555 1234; predicted John Smith 3 4 Call 555
    assert tok.overall == Scores(gold=7, found=5, predicted=6, correct=5)
    assert tok.overall.recall == pytest.approx(5 / 7)
    assert tok.overall.precision == pytest.approx(5 / 6)
    assert tok.overall.f1 == pytest.approx(10 / 13)
    assert tok.overall.f2 == pytest.approx(25 / 34)
    assert {k: (v.found, v.gold) for k, v in tok.by_label.items()} == {
        "NAME": (2, 2),
        "DATE": (2, 2),
        "LOCATION": (0, 1),
        "PHONE": (1, 2),
    }
    assert {k: (v.correct, v.predicted) for k, v in tok.by_type.items()} == {
        "NAME": (2, 3),
        "DATE": (2, 2),
        "PHONE_OR_FAX": (1, 1),
    }
    assert tok.by_label["NAME"].precision is None  # per-label precision is not defined

    ov = report.levels["entity_overlap"]
    assert ov.overall == Scores(gold=5, found=4, predicted=4, correct=3)
    assert ov.overall.f1 == pytest.approx(2 * 0.8 * 0.75 / 1.55)
    assert ov.by_label["LOCATION"].recall == 0.0
    assert ov.by_label["PHONE"].recall == 1.0  # overlap counts as found at entity level
    assert ov.by_type["NAME"] == Scores(predicted=2, correct=1)

    ex = report.levels["entity_exact"]
    assert ex.overall == Scores(gold=5, found=1, predicted=4, correct=1)
    assert ex.by_label["NAME"].recall == 0.0

    assert report.missed_total == 2  # GH, and the phone number (1234 left)
    assert report.false_positive_total == 1  # Call
    assert report.examples == ()


def test_aggregates_over_documents_and_dedupes_identical_offsets() -> None:
    other = GoldRecord("doc2", "Seen by Dr Lee.", (GoldSpan(11, 14, "NAME"),))
    dup = [Span(11, 14, "NAME", 0.9), Span(11, 14, "LOCATION", 0.4)]
    report = score([GOLD, other], [PRED, dup])
    assert report.levels["token"].overall == Scores(gold=8, found=6, predicted=7, correct=6)
    assert report.levels["entity_exact"].overall == Scores(gold=6, found=2, predicted=5, correct=2)
    # the duplicate is counted once, under its highest-scoring type
    assert report.levels["entity_overlap"].by_type["NAME"] == Scores(predicted=3, correct=2)
    assert "LOCATION" not in report.levels["entity_overlap"].by_type
    assert report.documents == 2
    assert report.characters == len(TEXT) + len(other.text)


def test_partial_token_overlap_counts_and_undefined_metrics() -> None:
    rec = GoldRecord("d", "abc def", (GoldSpan(0, 3, "NAME"),))
    report = score([rec], [[Span(1, 2, "NAME")]])  # "b" inside "abc"
    assert report.levels["token"].overall.recall == 1.0
    empty = score([rec], [[]])
    assert empty.levels["token"].overall.precision is None
    assert empty.levels["token"].overall.f1 is None
    assert empty.levels["token"].overall.recall == 0.0
    no_gold = score([GoldRecord("d", "abc", ())], [[]])
    assert no_gold.levels["token"].overall.to_dict()["recall"] is None


def test_fbeta_zero_when_nothing_right() -> None:
    s = Scores(gold=3, found=0, predicted=2, correct=0)
    assert s.f1 == 0.0
    assert s.f2 == 0.0


def test_evaluate_uses_detect_many_and_postprocess() -> None:
    det = BatchDetector({TEXT: PRED})
    seen: list[int] = []

    def only_names(text: str, spans: list[Span]) -> list[Span]:
        seen.append(len(spans))
        return [s for s in spans if s.type == "NAME"]

    report = evaluate([GOLD], det, only_names)
    assert det.batches == 1 and det.calls == 0
    assert seen == [4]
    assert report.levels["token"].overall == Scores(gold=7, found=2, predicted=3, correct=2)
    assert report.detector == "stub"


def test_evaluate_rejects_out_of_range_spans() -> None:
    det = ListDetector({TEXT: [Span(40, 99, "NAME")]})
    with pytest.raises(DetectionError) as err:
        evaluate([GOLD], det)
    assert "John" not in str(err.value)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_gold_detector_scores_perfectly(data: st.DataObject) -> None:
    words = data.draw(st.lists(st.text("qxzj", min_size=1, max_size=6), min_size=1, max_size=30))
    text = " ".join(words)
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    picks = data.draw(st.sets(st.integers(0, len(words) - 1), min_size=1))
    spans = tuple(GoldSpan(starts[i], starts[i] + len(words[i]), "NAME") for i in sorted(picks))
    rec = GoldRecord("r", text, spans)
    report = evaluate([rec], gold_detector([rec]))
    for level in report.levels.values():
        assert level.overall.recall == 1.0
        assert level.overall.precision == 1.0
        assert level.overall.f2 == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_default_output_holds_no_note_text(data: st.DataObject) -> None:
    # Words from an alphabet no heading uses, so any appearance would be leaked text.
    words = data.draw(st.lists(st.text("qxzj", min_size=3, max_size=8), min_size=2, max_size=20))
    text = " ".join(words)
    spans, pos = [], 0
    for i, w in enumerate(words):
        if i % 2 == 0:
            spans.append(GoldSpan(pos, pos + len(w), "NAME"))
        pos += len(w) + 1
    rec = GoldRecord("r1", text, tuple(spans))
    preds = [Span(0, len(text) // 2 + 1, "NAME")]
    report = score([rec], [preds], name="g.jsonl", detector="stub")
    out = format_text(report) + format_json([report], check_targets(report, CORPUS_TARGETS))
    for w in words:
        assert w not in out


def test_show_misses_adds_context_only_when_asked() -> None:
    report = score([GOLD], [PRED], show_misses=5, context=6)
    kinds = [(e.kind, e.label, e.context) for e in report.examples]
    assert ("miss", "LOCATION", "/4 at [[GH]]. Call") in kinds
    assert ("miss", "PHONE", "Call [[555-1234]].") in kinds
    assert ("false_positive", "NAME", "t GH. [[Call]] 555-1") in kinds
    assert "[[GH]]" in format_text(report)
    assert "examples" in json.loads(format_json([report]))["reports"][0]
    one = score([GOLD], [PRED], show_misses=1)
    assert [e.kind for e in one.examples] == ["miss", "false_positive"]


# --------------------------------------------------------------------------- gold files


def _write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def test_load_jsonl(tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "text": TEXT,
            "spans": [
                {"start": 3, "end": 7, "label": "NAME", "orig_label": "PTName", "text": "John"}
            ],
        },
        {"id": "b", "text": "no phi", "spans": []},
    ]
    path = _write(tmp_path / "g.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    gold = load_gold(path)
    assert gold.format == "jsonl" and gold.name == "g.jsonl"
    assert [r.id for r in gold.records] == ["a", "b"]
    assert gold.records[0].spans == (GoldSpan(3, 7, "NAME", "PTName"),)
    assert default_targets(gold) == CORPUS_TARGETS


def test_load_sample_with_text_file(tmp_path: Path) -> None:
    _write(tmp_path / "note.txt", TEXT)
    doc = {
        "id": "s",
        "text_file": "note.txt",
        "spans": [{"start": 26, "end": 28, "label": "location", "text": "GH"}],
    }
    gold = load_gold(_write(tmp_path / "note.gold.json", json.dumps(doc)))
    assert gold.format == "sample"
    assert gold.records == (GoldRecord("s", TEXT, (GoldSpan(26, 28, "LOCATION"),)),)
    assert default_targets(gold) == SAMPLE_TARGETS


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("g.jsonl", '{"id": "a", "text": "John", "spans": []}\n{oops\n', "g.jsonl:2: invalid JSON"),
        ("g.jsonl", '{"id": "a", "spans": []}\n', "missing string field 'text'"),
        (
            "g.jsonl",
            '{"text": "John", "spans": [{"start": 0, "end": 9, "label": "NAME"}]}\n',
            "offsets 0..9 outside text of length 4",
        ),
        (
            "g.jsonl",
            '{"text": "John", "spans": [{"start": 0, "end": 4, "label": "NAME", '
            '"text": "Jane"}]}\n',
            "span text does not match",
        ),
        (
            "g.jsonl",
            '{"text": "John", "spans": [{"start": "0", "end": 4, "label": "NAME"}]}\n',
            "'start' must be an integer",
        ),
        ("g.jsonl", "   \n", "gold file is empty"),
        ("s.json", '{"id": "s", "spans": []}', "needs a string field 'text' or 'text_file'"),
        ("s.json", '{"id": "s", "text_file": "gone.txt", "spans": []}', "gone.txt: file not found"),
        ("s.json", '{"id": "s", ', "invalid JSON"),
    ],
)
def test_bad_gold_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = _write(tmp_path / name, content)
    with pytest.raises(InputError) as err:
        load_gold(path)
    text = str(err.value)
    assert message in text
    assert "\n" not in text
    assert "John" not in text and "Jane" not in text


def test_missing_gold_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"gold file .*: file not found"):
        load_gold(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="is a directory"):
        load_gold(tmp_path)


# --------------------------------------------------------------------------- targets


def test_targets_pass_fail_and_na() -> None:
    report = score([GOLD], [PRED], name="g.jsonl")
    results = check_targets(report, CORPUS_TARGETS)
    status = {r.target.describe(): r.passed for r in results}
    assert status == {
        "token overall recall >= 0.98": False,
        "token overall precision >= 0.85": False,  # 0.8333
        "token NAME recall >= 0.95": True,
        "token DATE recall >= 0.95": True,
        "token LOCATION recall >= 0.95": False,
        "token PHONE recall >= 0.95": False,
    }
    no_phone = score([GoldRecord("d", "John", (GoldSpan(0, 4, "NAME"),))], [[Span(0, 4, "NAME")]])
    phone = [r for r in check_targets(no_phone, CORPUS_TARGETS) if r.target.label == "PHONE"]
    assert phone[0].passed is None
    assert "N/A " in format_targets(phone)
    assert format_targets(results).splitlines()[0].startswith("FAIL  g.jsonl: token overall")


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def sample_files(tmp_path: Path) -> Path:
    _write(tmp_path / "note.txt", TEXT)
    doc = {
        "id": "s",
        "text_file": "note.txt",
        "spans": [{"start": g.start, "end": g.end, "label": g.label} for g in GOLD.spans],
    }
    return _write(tmp_path / "note.gold.json", json.dumps(doc))


def _run(
    monkeypatch: pytest.MonkeyPatch,
    detector: object,
    args: list[str],
    seen: list[dict[str, object]] | None = None,
) -> Result:
    """Invoke the command with `detector` standing in for every backend."""
    import phiguard.run.deidentifier
    from phiguard_cli import eval_cmd

    def fake_get_detector(name: str, **options: object) -> object:
        if seen is not None:
            seen.append({"name": name, **options})
        return detector

    monkeypatch.setattr(phiguard.run.deidentifier, "get_detector", fake_get_detector)
    return CliRunner().invoke(eval_cmd.eval_command, args)


def test_cli_targets_pass(monkeypatch: pytest.MonkeyPatch, sample_files: Path) -> None:
    result = _run(monkeypatch, gold_detector([GOLD]), [str(sample_files), "--targets"])
    assert result.exit_code == 0, result.output
    assert "PASS  note.gold.json: token overall recall >= 1" in result.stdout
    assert "John" not in result.stdout


def test_cli_targets_fail_exit_8_and_json(
    monkeypatch: pytest.MonkeyPatch, sample_files: Path
) -> None:
    det = ListDetector({TEXT: PRED})
    result = _run(monkeypatch, det, [str(sample_files), "--targets", "--format", "json"])
    assert result.exit_code == 8
    doc = json.loads(result.stdout)
    assert doc["targets_passed"] is False
    assert doc["reports"][0]["levels"]["token"]["overall"]["recall"] == round(5 / 7, 4)
    assert "John" not in result.stdout


def test_cli_show_misses(monkeypatch: pytest.MonkeyPatch, sample_files: Path) -> None:
    result = _run(monkeypatch, RegexDetector(), [str(sample_files), "--show-misses", "2"])
    assert result.exit_code == 0
    assert "examples (CONTAIN PHI)" in result.stdout


def test_cli_bad_input_exit_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = _run(monkeypatch, RegexDetector(), [str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "missing.jsonl: file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_threshold_goes_through_resolver(
    monkeypatch: pytest.MonkeyPatch, sample_files: Path
) -> None:
    det = ListDetector({TEXT: [Span(3, 7, "NAME", 0.4), Span(8, 13, "NAME", 0.9)]})
    result = _run(monkeypatch, det, [str(sample_files), "--threshold", "0.5", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    token = json.loads(result.stdout)["reports"][0]["levels"]["token"]["overall"]
    assert (token["found"], token["predicted"]) == (1, 1)


def test_goldset_name_in_report(sample_files: Path) -> None:
    gold = load_gold(sample_files)
    assert isinstance(gold, GoldSet)
    assert evaluate(gold, RegexDetector()).name == "note.gold.json"


def test_jsonl_line_separator_inside_text(tmp_path: Path) -> None:
    text = "Seen\u2028by Lee"
    row = {"id": "a", "text": text, "spans": [{"start": 8, "end": 11, "label": "NAME"}]}
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_gold(path).records[0].text == text


def test_sample_list_must_not_be_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no records"):
        load_gold(_write(tmp_path / "s.json", "[]"))


def test_cli_age_policy_follows_the_gold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = "Pt is 50 yo, seen by Lee."
    _write(tmp_path / "n.txt", text)
    spans = [{"start": 6, "end": 8, "label": "AGE"}, {"start": 21, "end": 24, "label": "NAME"}]
    aged = _write(tmp_path / "aged.gold.json", json.dumps({"text_file": "n.txt", "spans": spans}))
    plain = _write(tmp_path / "plain.jsonl", json.dumps({"text": text, "spans": spans[1:]}))
    seen: list[dict[str, object]] = []
    result = _run(monkeypatch, RegexDetector(), [str(aged), str(plain)], seen)
    assert result.exit_code == 0, result.stderr
    assert [s["age_policy"] for s in seen] == ["all", "over89"]
    assert "age_policy=all" in result.stdout
    seen.clear()
    _run(monkeypatch, RegexDetector(), [str(aged), "--age-policy", "over89"], seen)
    assert seen[0]["age_policy"] == "over89"


intervals = st.lists(
    st.tuples(st.integers(0, 50), st.integers(1, 10)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=15,
)


@given(intervals, intervals)
def test_any_overlap_matches_brute_force(
    items: list[tuple[int, int]], others: list[tuple[int, int]]
) -> None:
    from phiguard.evaluation.scoring import _any_overlap

    expected = [any(s < oe and os < e for os, oe in others) for s, e in items]
    assert _any_overlap(items, others) == expected


def test_warm_up_runs_one_untimed_call() -> None:
    det = BatchDetector({TEXT: PRED})
    report = evaluate([GOLD], det, warm_up=True)
    assert (det.calls, det.batches) == (1, 1)
    assert report.levels["token"].overall.found == 5
