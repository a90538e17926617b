"""The one transform engine and its policies: actions per type, presets, the TOML file.

The engine is checked on what users rely on: every replacement stands at its recorded offset
of the output, putting the values back gives the input byte for byte (for any mix of
reversible actions), kept spans stay, masked and labelled ones leave no mapping, and no
original survives a surrogate or token action.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.errors import ConfigError
from phiguard.spans import PhiType, Span
from phiguard.surrogates import Scopes
from phiguard.transform import (
    TOKEN_LIKE,
    Action,
    Policy,
    apply,
    load_policy,
    mask,
    masking,
    restore,
    tokenize,
)

KEY = bytes(range(32))
NOTE = "Mr. Carlos Salazar seen 02/03/2012, MRN 00482913, call 617-555-0142; teacher."
SPANS = [
    Span(4, 18, "NAME"),
    Span(24, 34, "DATE"),
    Span(40, 48, "ID"),
    Span(55, 67, "PHONE_OR_FAX"),
    Span(69, 76, "PROFESSION"),
]


def scope(patient: str | None = "p1") -> object:
    return Scopes(KEY).for_note(NOTE, patient)


def back(text: str, t: object) -> str:
    reps = t.replacements  # type: ignore[attr-defined]
    return restore(text, [(r.offset, r.token, r.value) for r in reps])


# -- policies ---------------------------------------------------------------------------------


def test_presets_are_the_three_commands() -> None:
    assert Policy.mask().action("NAME") is Action.MASK
    assert Policy.mask("label").action("DATE") is Action.LABEL
    assert Policy.deid().action("DATE") is Action.TOKEN and not Policy.deid().keyed
    s = Policy.surrogate()
    assert s.action("NAME") is Action.SURROGATE and s.action("DATE") is Action.SHIFT
    assert s.keyed and s.reversible and not Policy.mask().reversible


def test_a_policy_is_frozen_hashable_and_picklable() -> None:
    p = Policy.of("surrogate", id="token", AGE="keep").with_dates(min_days=-30, max_days=30)
    assert pickle.loads(pickle.dumps(p)) == p and hash(p) == hash(pickle.loads(pickle.dumps(p)))
    assert p.action("ID") is Action.TOKEN and p.action("AGE") is Action.KEEP
    assert p.describe() == "default=surrogate AGE=keep ID=token"


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (lambda: Policy.of("surrogate", NAMES="token"), "unknown PHI type 'NAMES'"),
        (lambda: Policy.of("scramble"), "unknown action 'scramble'"),
        (lambda: Policy.of("surrogate", NAME="shift"), "'shift' is for DATE only, not NAME"),
        (lambda: Policy.of("shift"), "cannot be the default"),
        (lambda: Policy(min_days=5, max_days=1), "is empty"),
        (lambda: Policy(min_days=0, max_days=0), "no non-zero offset"),
        (lambda: Policy(min_days=-6, max_days=6, keep_weekday=True), "no non-zero offset"),
    ],
)
def test_bad_policies_are_refused_with_one_clear_line(build: object, needle: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        build()  # type: ignore[operator]


def test_masking_takes_only_irreversible_policies() -> None:
    assert masking(Policy.mask().with_actions(AGE="keep")).action("AGE") is Action.KEEP
    with pytest.raises(ConfigError, match="ID=token"):
        masking(Policy.mask().with_actions(ID="token"))
    with pytest.raises(ConfigError, match="default=surrogate"):
        masking(Policy.surrogate())


def test_policy_file_changes_the_commands_preset(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text(
        '# research extract\n[actions]\nID = "token"\nprofession = "keep"\n'
        "[dates]\nmin_days = -30\nmax_days = 30\nkeep_weekday = true\n"
    )
    p = load_policy(f, Policy.surrogate())
    assert p.default is Action.SURROGATE and p.action("DATE") is Action.SHIFT  # from the preset
    assert p.action("ID") is Action.TOKEN and p.action("PROFESSION") is Action.KEEP
    assert (p.min_days, p.max_days, p.keep_weekday, p.day_first) == (-30, 30, True, False)
    f.write_text('default = "label"\n')
    assert load_policy(f, Policy.deid()) == Policy(Action.LABEL)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("defualt = 'mask'\n", "unknown key 'defualt' (known: default, actions, dates)"),
        ("[actions]\nNAME = 'blur'\n", "unknown action 'blur' for NAME"),
        ("[actions]\nNAME = 3\n", "[actions] maps PHI types to action names"),
        ("[actions]\nPATIENT = 'mask'\n", "unknown PHI type 'PATIENT'"),
        ("[dates]\nmin_days = '-30'\n", "dates.min_days must be an integer"),
        ("[dates]\nkeep_weekday = 1\n", "dates.keep_weekday must be true or false"),
        ("[dates]\nshift = 3\n", "unknown key 'shift'"),
        ("[dates]\nmin_days = 1\nmax_days = -1\n", "is empty"),
        ("default = \n", "not valid TOML"),
        ("default = 'shift'\n", "cannot be the default"),
    ],
)
def test_policy_file_errors_name_the_file_and_the_key(
    tmp_path: Path, body: str, needle: str
) -> None:
    f = tmp_path / "p.toml"
    f.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_policy(f, Policy.surrogate())
    assert str(info.value).startswith(f"policy {f}") and needle in str(info.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read policy"):
        load_policy(tmp_path / "none.toml")


# -- the engine -------------------------------------------------------------------------------


def test_mask_and_tokenize_are_presets_of_the_engine() -> None:
    masked = mask(NOTE, SPANS)
    assert masked == apply(NOTE, SPANS, Policy.mask()).text and len(masked) == len(NOTE)
    assert mask(NOTE, SPANS, "label").startswith("Mr. [NAME] seen [DATE], MRN [ID]")
    t = tokenize(NOTE, SPANS)
    assert t.unique and all(TOKEN_LIKE.fullmatch(r.token) for r in t.replacements)
    assert back(t.text, t) == NOTE


def test_each_action_where_it_stands() -> None:
    policy = Policy.of(
        "surrogate", NAME="surrogate", DATE="shift", ID="token", PHONE_OR_FAX="mask"
    ).with_actions(PROFESSION="keep")
    t = apply(NOTE, SPANS, policy, surrogates=scope())  # type: ignore[arg-type]
    assert t.text.startswith("Mr. ") and t.text.endswith("; teacher.")  # kept as written
    assert "call ############;" in t.text  # masked: '#' for every character
    by_type = {r.type: r for r in t.replacements}
    assert set(by_type) == {"NAME", "DATE", "ID"}, "masked and kept spans leave no mapping"
    for r in t.replacements:
        assert t.text[r.offset : r.offset + len(r.token)] == r.token
        assert NOTE[r.origin : r.origin + len(r.value)] == r.value
        assert r.token != r.value
    assert TOKEN_LIKE.fullmatch(by_type["ID"].token)
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", by_type["DATE"].token)
    assert t.unique, "a fresh-salt token: no other note or run writes this text"


def test_reversible_actions_round_trip_and_mask_does_not() -> None:
    mixed = Policy.of("surrogate", ID="token", PROFESSION="keep")
    t = apply(NOTE, SPANS, mixed, surrogates=scope())  # type: ignore[arg-type]
    assert back(t.text, t) == NOTE
    lossy = mixed.with_actions(PHONE_OR_FAX="label")
    t = apply(NOTE, SPANS, lossy, surrogates=scope())  # type: ignore[arg-type]
    assert "[PHONE_OR_FAX]" in back(t.text, t), "a labelled span cannot come back: by design"


def test_a_surrogate_that_cannot_be_made_is_a_reversible_label_never_the_original() -> None:
    text = "ref ZZ-??, seen 2/31/2012 then"
    spans = [Span(4, 9, "OTHER"), Span(16, 25, "DATE")]  # OTHER has no surrogate; 2/31 no date
    t = apply(text, spans, Policy.surrogate(), surrogates=Scopes(KEY).for_note(text))
    assert t.text == "ref [OTHER], seen [DATE] then"
    assert [r.value for r in t.replacements] == ["ZZ-??", "2/31/2012"]
    assert back(t.text, t) == text


def test_values_that_are_not_phi_stay_without_a_mapping() -> None:
    text = "age 45, in 1992"  # an age under 90; a lone year the default shift keeps
    spans = [Span(4, 6, "AGE"), Span(11, 15, "DATE")]
    t = apply(text, spans, Policy.surrogate(), surrogates=Scopes(KEY).for_note(text, "p"))
    assert t.text == text and t.replacements == ()


def test_hex_runs_left_in_the_text_are_tokenized_so_reid_stays_exact() -> None:
    text = "Carlos sha " + "ab" * 40 + " end"
    t = apply(text, [Span(0, 6, "NAME")], Policy.surrogate(), surrogates=Scopes(KEY).for_note(text))
    assert "ab" * 40 not in t.text and t.unique, "a fresh token makes the output unique"
    assert back(t.text, t) == text
    kept = apply(text, [Span(0, 6, "NAME")], Policy.of("keep"))
    assert kept.text == text and kept.replacements == (), "nothing reversible: no lookalikes"


def test_surrogates_of_a_scope_are_deterministic_and_tokens_are_not() -> None:
    one = apply(NOTE, SPANS, Policy.surrogate(), surrogates=scope())  # type: ignore[arg-type]
    two = apply(NOTE, SPANS, Policy.surrogate(), surrogates=scope())  # type: ignore[arg-type]
    assert one == two and not one.unique
    other = apply(NOTE, SPANS, Policy.surrogate(), surrogates=scope("p2"))  # type: ignore[arg-type]
    assert other.text != one.text
    assert tokenize(NOTE, SPANS).text != tokenize(NOTE, SPANS).text


def test_keyed_policies_need_a_scope() -> None:
    with pytest.raises(ValueError, match="surrogates"):
        apply(NOTE, SPANS, Policy.surrogate())


# -- hypothesis: any note, any spans, any mix of reversible actions, exact round trip ---------

REVERSIBLE_OR_KEPT = st.sampled_from([Action.TOKEN, Action.SURROGATE, Action.KEEP])
TYPES = st.sampled_from([t.value for t in PhiType])


@st.composite
def notes_with_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=120))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=10)))
    spans = [Span(a, b, draw(TYPES)) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
    return text, spans


@settings(max_examples=300, deadline=None)
@given(note=notes_with_spans(), default=REVERSIBLE_OR_KEPT, date=REVERSIBLE_OR_KEPT)
def test_any_reversible_policy_round_trips_exactly(
    note: tuple[str, list[Span]], default: Action, date: Action
) -> None:
    text, spans = note
    policy = Policy(default, (("DATE", date),))
    t = apply(text, spans, policy, surrogates=Scopes(KEY).for_note(text, "p"))
    for r in t.replacements:
        assert t.text[r.offset : r.offset + len(r.token)] == r.token
    assert back(t.text, t) == text
    for s in spans:  # a kept span stays as written, where it stood (shifted by the others)
        if policy.action(s.type) is Action.KEEP:
            before = sum(len(r.token) - len(r.value) for r in t.replacements if r.origin < s.start)
            assert t.text[s.start + before : s.end + before] == text[s.start : s.end]


def test_the_documented_policy_file_is_the_shipped_example_and_valid() -> None:
    repo = Path(__file__).resolve().parents[2]
    doc = (repo / "docs" / "surrogates.md").read_text(encoding="utf-8")
    block = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    example = repo / "examples" / "policy.toml"
    assert example.read_text(encoding="utf-8") == block
    p = load_policy(example, Policy.surrogate())
    assert p.action("ID") is Action.TOKEN and p.action("PROFESSION") is Action.KEEP
    assert p.action("DATE") is Action.SHIFT and (p.min_days, p.max_days) == (-365, -1)
