"""The trained statistical signal of the local detector: a linear-chain CRF over word tokens.

The rules know the contexts they were written for; a model trained on many styles (telegraphic
ICU notes in any case, discharge summaries, clinician queries, general prose) adds a second,
independent opinion that does not depend on those contexts. A CRF (CRFsuite) was chosen over a
neural NER because it trains in minutes on two cores, loads in well under a second, tags tens of
thousands of tokens a second in pure CPU, and its dictionary features (first names, surnames,
places, common English words, clinical vocabulary) are shipped beside the weights, so the model is
self-contained: `tools/train_model.py` writes both, and this module reads only them.

Token features are computed once per distinct token string and document case (ALL CAPS, lower
case, mixed), which keeps tagging fast on the Zipfian vocabulary of clinical notes.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from phiguard.errors import DetectionError
from phiguard.spans import Span

log = logging.getLogger(__name__)

SOURCE = "local:model"
FEATURE_VERSION = 1
MODEL_FILE = "weights.npz"
LEXICON_FILE = "lexicon.tsv.gz"
META_FILE = "meta.json"

# Letters, digit runs and single other characters: "x23" -> "x", "23"; "O'Brien" -> 3 tokens.
TOKEN = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")
_SHAPE_MAP = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "X" * 26 + "x" * 26 + "d" * 10,
)
_REPEAT = re.compile(r"(.)\1+")


class Token(NamedTuple):
    start: int
    end: int
    text: str
    newline: bool  # a line break stands between this token and the previous one


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    prev = 0
    find = text.find
    for m in TOKEN.finditer(text):
        start = m.start()
        out.append(Token(start, m.end(), m.group(), find("\n", prev, start) >= 0))
        prev = m.end()
    return out


def case_mode(text: str) -> str:
    """'U' for ALL-CAPS documents, 'L' for lower-case ones, 'M' for mixed."""
    upper = sum(map(str.isupper, text))
    lower = sum(map(str.islower, text))
    letters = upper + lower
    if letters == 0:
        return "M"
    if upper / letters > 0.8:
        return "U"
    if lower / letters > 0.97:
        return "L"
    return "M"


_SHAPES: dict[str, str] = {}


def _shape(word: str) -> str:
    """'Xx' for "Smith", 'XX' for "SMITH", 'dd/dd' style for digits; repeats collapsed."""
    hit = _SHAPES.get(word)
    if hit is not None:
        return hit
    if not word.isascii():
        if word.isalpha():
            hit = "Uu" if word[:1].isupper() and word[1:].islower() else "u"
        else:
            hit = "?"
    else:
        hit = _REPEAT.sub(_double, word.translate(_SHAPE_MAP))[:6]
    if len(_SHAPES) < 200_000:
        _SHAPES[word] = hit
    return hit


def _double(m: re.Match[str]) -> str:
    return m.group(1) * 2


class Featurizer:
    """Maps tokens to CRFsuite attribute lists; `lexicon` maps a lower-case word to its tags."""

    def __init__(self, lexicon: dict[str, tuple[str, ...]]) -> None:
        self.lexicon = lexicon
        self._own: dict[tuple[str, str], list[str]] = {}
        self._ctx: dict[tuple[str, str], tuple[list[str], list[str], list[str], list[str]]] = {}

    def _base(self, word: str, mode: str) -> list[str]:
        low = word.lower()
        feats = [f"s{mode}={_shape(word)}"]
        tags = self.lexicon.get(low, ())
        feats.extend(f"t={t}" for t in tags)
        if word.isalpha():
            if not tags:
                feats.append("t=oov")
            if mode == "M":
                feats.extend(f"t{t}={_shape(word)[:2]}" for t in tags[:3])
        elif word.isdigit():
            n = len(word)
            value = int(word) if n <= 4 else -1
            if n == 4:
                feats.append("yr" if 1900 <= value <= 2099 else "d4")
            elif n <= 2:
                feats.append("le12" if value <= 12 else ("le31" if value <= 31 else "d2"))
            elif n == 3:
                feats.append("age" if 90 <= value <= 119 else "d3")
            else:
                feats.append(f"dn{min(n, 11)}")
        return feats

    def own(self, word: str, mode: str) -> list[str]:
        key = (word, mode)
        hit = self._own.get(key)
        if hit is None:
            low = word.lower()
            hit = [f"w={low}", *self._base(word, mode)]
            if word.isalpha() and len(low) > 3:
                hit += [f"p3={low[:3]}", f"s3={low[-3:]}"]
            if len(self._own) < 500_000:
                self._own[key] = hit
        return hit

    def context(self, word: str, mode: str) -> tuple[list[str], list[str], list[str], list[str]]:
        """Attributes this token gives its neighbours at offsets -2, -1, +1, +2."""
        key = (word, mode)
        hit = self._ctx.get(key)
        if hit is None:
            low = word.lower()
            base = self._base(word, mode)
            hit = (
                [f"-2w={low}"],
                [f"-1w={low}", *(f"-1{f}" for f in base)],
                [f"+1w={low}", *(f"+1{f}" for f in base)],
                [f"+2w={low}"],
            )
            if len(self._ctx) < 500_000:
                self._ctx[key] = hit
        return hit

    def features(self, text: str, tokens: Sequence[Token]) -> list[list[str]]:
        mode = case_mode(text)
        words = [t.text for t in tokens]
        ctx = [self.context(w, mode) for w in words]
        n = len(words)
        out: list[list[str]] = []
        for i, w in enumerate(words):
            f = [*self.own(w, mode)]
            if tokens[i].newline or i == 0:
                f.append("bol")
            if i >= 1:
                f += ctx[i - 1][1]
                if i >= 2:
                    f += ctx[i - 2][0]
            else:
                f.append("bos")
            if i + 1 < n:
                f += ctx[i + 1][2]
                if i + 2 < n:
                    f += ctx[i + 2][3]
            else:
                f.append("eos")
            out.append(f)
        return out


def read_lexicon(path: Path) -> dict[str, tuple[str, ...]]:
    lex: dict[str, tuple[str, ...]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            word, _, tags = line.rstrip("\n").partition("\t")
            if word and tags:
                lex[word] = tuple(tags.split(","))
    return lex


def write_lexicon(path: Path, lexicon: dict[str, tuple[str, ...]]) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        data = "".join(f"{w}\t{','.join(t)}\n" for w, t in sorted(lexicon.items()) if t)
        raw.write(data.encode("utf-8"))


def _has_alnum(word: str) -> bool:
    return any(c.isalnum() for c in word)


def spans_from_labels(
    tokens: Sequence[Token], labels: Sequence[str], scores: Sequence[float]
) -> list[Span]:
    """Contiguous B-/I- tokens of one type become one span; its score is the mean marginal.
    Punctuation at either end is left out: the ": " of "MRN: RQ36114734" is not the ID."""
    out: list[Span] = []
    cur: list[int] = []
    cur_type = ""

    def close() -> None:
        kept = cur[:]
        while kept and not _has_alnum(tokens[kept[0]].text):
            kept.pop(0)
        while kept and not _has_alnum(tokens[kept[-1]].text):
            kept.pop()
        if kept:
            s = sum(scores[i] for i in kept) / len(kept)
            out.append(Span(tokens[kept[0]].start, tokens[kept[-1]].end, cur_type, s, SOURCE))

    for i, label in enumerate(labels):
        if label == "O":
            close()
            cur, cur_type = [], ""
            continue
        tag, _, kind = label.partition("-")
        if tag == "B" or kind != cur_type or tokens[i].newline:
            close()
            cur, cur_type = [], kind
        cur.append(i)
    close()
    return out


class Model:
    """Exported CRF weights and lexicon, decoded with numpy (CRFsuite is only needed to train).

    Each distinct (token, document case) gets five cached weight vectors: its own attributes
    and the ones it lends its neighbours at -2, -1, +1, +2. A document's emission scores are
    then a few fancy-indexing sums, and forward-backward runs over batches of documents, so
    the per-token Python work is one dictionary look-up.
    """

    def __init__(self, directory: Path, min_mass: float = 0.5) -> None:
        import numpy as np

        self.directory = directory
        self.min_mass = min_mass
        self.meta: dict[str, Any] = json.loads((directory / META_FILE).read_text("utf-8"))
        if self.meta.get("feature_version") != FEATURE_VERSION:
            raise DetectionError(
                f"trained model in {directory} has feature version "
                f"{self.meta.get('feature_version')}, this phiguard needs {FEATURE_VERSION}"
            )
        with np.load(directory / MODEL_FILE, allow_pickle=False) as z:
            attributes: list[str] = z["attributes"].tolist()
            self._w = z["state"].astype(np.float64)
            trans = z["transitions"].astype(np.float64)
            self.labels: list[str] = z["labels"].tolist()
        self._np = np
        self._attr = {a: i for i, a in enumerate(attributes)}
        self._zero_row = len(attributes)
        self._w = np.vstack([self._w, np.zeros((1, self._w.shape[1]))])
        self._exp_trans = np.exp(trans)
        self._o = self.labels.index("O")
        self._types = [lab.partition("-")[2] for lab in self.labels]
        self.featurizer = Featurizer(read_lexicon(directory / LEXICON_FILE))
        self._bol, self._bos, self._eos = (self._vec([a]) for a in ("bol", "bos", "eos"))
        self._ids: dict[tuple[str, str], int] = {}
        self._table = np.zeros((5, 1024, len(self.labels)))

    def _vec(self, attrs: Sequence[str]) -> Any:
        rows = [self._attr[a] for a in attrs if a in self._attr]
        if not rows:
            return self._np.zeros(len(self.labels))
        return self._w[rows].sum(axis=0)

    def _id(self, word: str, mode: str) -> int:
        """Cache the five weight vectors of a new (token, case) in one numpy reduction."""
        np = self._np
        if len(self._ids) >= 300_000:  # bound memory on endless streams of new tokens
            self._ids.clear()
        k = len(self._ids)
        if k >= self._table.shape[1]:
            grown = np.zeros((5, 2 * k, len(self.labels)))
            grown[:, :k] = self._table
            self._table = grown
        c2, c1, p1, p2 = self.featurizer.context(word, mode)
        attr, zero = self._attr, self._zero_row
        rows: list[int] = []
        starts: list[int] = []
        for attrs in (self.featurizer.own(word, mode), c2, c1, p1, p2):
            starts.append(len(rows))
            rows.append(zero)  # keeps every segment non-empty for reduceat
            rows.extend(attr[a] for a in attrs if a in attr)
        self._table[:, k] = np.add.reduceat(self._w[rows], starts, axis=0)
        self._ids[(word, mode)] = k
        return k

    def _emissions(self, text: str, tokens: Sequence[Token]) -> Any:
        np = self._np
        mode = case_mode(text)
        cache = self._ids
        ids = []
        for t in tokens:
            k = cache.get((t.text, mode))
            ids.append(self._id(t.text, mode) if k is None else k)
        idx = np.array(ids)
        own, c2, c1, p1, p2 = self._table
        e = own[idx]
        e[1:] += c1[idx[:-1]]
        e[2:] += c2[idx[:-2]]
        e[:-1] += p1[idx[1:]]
        e[:-2] += p2[idx[2:]]
        bol = np.array([t.newline for t in tokens])
        bol[0] = True
        e[bol] += self._bol
        e[0] += self._bos
        e[-1] += self._eos
        return e

    def marginals(self, emissions: Sequence[Any]) -> list[Any]:
        """Per-token label marginals (forward-backward, scaled) for a batch of documents."""
        np = self._np
        if len(emissions) == 1:
            return [self._marginals_one(emissions[0])]
        n_docs, n_labels = len(emissions), len(self.labels)
        lengths = np.array([len(e) for e in emissions])
        t_max = int(lengths.max())
        p = np.ones((n_docs, t_max, n_labels))
        for d, e in enumerate(emissions):
            p[d, : len(e)] = np.exp(e - e.max(axis=1, keepdims=True))
        trans = self._exp_trans
        alpha = np.empty_like(p)
        a = p[:, 0]
        alpha[:, 0] = a / a.sum(axis=1, keepdims=True)
        for t in range(1, t_max):
            a = (alpha[:, t - 1] @ trans) * p[:, t]
            alpha[:, t] = a / a.sum(axis=1, keepdims=True)
        beta = np.ones_like(p)
        for t in range(t_max - 2, -1, -1):
            b = (p[:, t + 1] * beta[:, t + 1]) @ trans.T
            b /= b.sum(axis=1, keepdims=True)
            beta[:, t] = np.where((t >= lengths - 1)[:, None], 1.0, b)
        m = alpha * beta
        m /= m.sum(axis=2, keepdims=True)
        return [m[d, : lengths[d]] for d in range(n_docs)]

    def _marginals_one(self, e: Any) -> Any:
        """`marginals` for one document (a request of one note): the same recursion on 1-D
        rows, in place, which halves the per-token numpy calls that dominate short inputs."""
        np = self._np
        p = np.exp(e - e.max(axis=1, keepdims=True))
        trans, trans_t = self._exp_trans, self._exp_trans.T
        alpha = np.empty_like(p)
        np.divide(p[0], p[0].sum(), out=alpha[0])
        for t in range(1, len(p)):
            a = alpha[t]
            np.dot(alpha[t - 1], trans, out=a)
            a *= p[t]
            a /= a.sum()
        beta = np.ones_like(p)
        nxt = np.empty(p.shape[1])
        for t in range(len(p) - 2, -1, -1):
            b = beta[t]
            np.multiply(p[t + 1], beta[t + 1], out=nxt)
            np.dot(nxt, trans_t, out=b)
            b /= b.sum()
        m = alpha * beta
        m /= m.sum(axis=1, keepdims=True)
        return m

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans per text. A token is PHI when the label marginals give it at least `min_mass`
        of non-O probability (recall first); its type is the most likely non-O label, and a
        span's score is the mean PHI probability of its tokens."""
        out: list[list[Span]] = [[] for _ in texts]
        docs = []
        for i, text in enumerate(texts):
            tokens = tokenize(text)
            if tokens:
                docs.append((i, tokens, self._emissions(text, tokens)))
        docs.sort(key=lambda d: len(d[1]))
        for b in range(0, len(docs), 32):
            batch = docs[b : b + 32]
            for (i, tokens, _), m in zip(batch, self.marginals([d[2] for d in batch]), strict=True):
                mass = 1.0 - m[:, self._o]
                m[:, self._o] = -1.0
                best = m.argmax(axis=1)
                labels = [
                    self.labels[k] if ok else "O"
                    for k, ok in zip(best.tolist(), (mass >= self.min_mass).tolist(), strict=True)
                ]
                out[i] = spans_from_labels(tokens, labels, mass.tolist())
        return out


def default_directory() -> Path:
    return Path(str(resources.files("phiguard") / "data" / "model"))


@lru_cache(maxsize=4)
def load_model(directory: str | None = None) -> Model:
    """The shipped model (or one in `directory`), loaded once per process."""
    path = Path(directory) if directory else default_directory()
    if not (path / MODEL_FILE).is_file():
        raise DetectionError(f"trained model not found in {path} (run `make train`)")
    try:
        return Model(path)
    except DetectionError:
        raise
    except Exception as exc:
        raise DetectionError(
            f"trained model in {path} cannot be loaded ({type(exc).__name__})"
        ) from None


def load_trained(option: bool | str) -> Model | None:
    """The LocalDetector's `trained_model` option: True (shipped), False (off), or a directory."""
    if option is False:
        return None
    return load_model(None if option is True else str(option))
