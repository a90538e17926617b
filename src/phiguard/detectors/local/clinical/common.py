"""Small shared helpers: span construction and the scores each kind of evidence earns."""

from __future__ import annotations

from phiguard.spans import PhiType, Span

# One scale for every rule and signal: the score says how much evidence stood behind a
# finding, so one `--threshold` trades recall for precision (docs/accuracy.md, "Scores").
STRONG = 0.95  # labelled field, title + name, full date, formatted phone number
GOOD = 0.85  # two independent cues (dictionary + context)
FAIR = 0.7  # one context cue or a dictionary hit with capitalisation
NER = 0.6  # spaCy NER vetted against the dictionaries; a word in a non-Latin script
WEAK = 0.55  # propagation of a value already found elsewhere in the note
WEAK_SIGNAL = 0.45  # one shape signal alone: an unknown Title-case word, NER in prose


def words(text: str) -> frozenset[str]:
    """A word set from a whitespace-separated literal (keeps long lists readable)."""
    return frozenset(text.split())


# Words that connect or qualify but are never a name/place themselves.
FUNCTION_WORDS = words(
    """a an the and or but nor of to in into on at by for from with w/ w without as is are was
    were be been being am has have had do does did will would shall should can could may
    might must not no yes this that these those it its he him his she her hers they them
    their we us our you your i me my who whom whose which what when where why how all any
    both each few more most other some such only own same so than too very just also then
    there here now s t pt pts patient patients pt's aware notified paged called updated
    informed spoke discussed ordered states stated said says came come visited visiting
    visit present remains re regarding about per via after before during since until while
    again"""
)


def span(start: int, end: int, kind: PhiType, score: float, rule: str) -> Span:
    return Span(start, end, kind.value, score, f"local:{rule}")
