"""Train phiguard's CRF PHI tagger (`make train`) and write it into the package.

    .venv/bin/python tools/train_model.py [--out DIR] [--dev PATH | --no-dev] [--quick]

Training data (docs/model.md): synthetic documents of four styles from `tools/synth` (names and
places from the *train* partition of the public pools), plus, unless `--no-dev`, the PhysioNet
dev notes with every gold PHI string replaced by a surrogate. Needs the `train` extra
(`pip install -e '.[train]'`). Deterministic for a given seed and package versions.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(REPO / "src"))

from phiguard.detectors.local import model as crf  # noqa: E402
from synth import pools as pools_mod  # noqa: E402
from synth import resurrogate, styles  # noqa: E402
from synth.cast import VOCAB  # noqa: E402

DEFAULT_DEV = REPO.parent / "shared" / "eval" / "physionet-dev.jsonl"
DEFAULT_OUT = REPO / "src" / "phiguard" / "data" / "model"
POOL_CACHE = Path(os.environ.get("PHIGUARD_SYNTH_CACHE", REPO / "build" / "synth-pools.json"))
PACKAGE_DATA = REPO / "src" / "phiguard" / "data"
LABEL_MAP = {"PHONE": "PHONE_OR_FAX", "OTHER": "ID", "ADDRESS": "LOCATION"}
Record = dict[str, object]


@dataclass(frozen=True)
class Params:
    synth: dict[str, int]  # documents per training style
    seed: int = 11
    max_iterations: int = 20  # SGD epochs
    c2: float = 0.1
    minfreq: int = 1
    dev_copies: int = 3  # each annotated note is re-surrogated this many times (new strings)


FULL = Params({"nursing": 1500, "discharge": 400, "query": 2000, "general": 2000})
QUICK = Params(
    {"nursing": 40, "discharge": 15, "query": 40, "general": 40}, max_iterations=3, dev_copies=1
)


def read_jsonl(path: Path) -> list[Record]:
    return [json.loads(ln) for ln in path.read_text("utf-8").splitlines() if ln.strip()]


def fixed_hash_seed() -> None:
    """Re-run this process with PYTHONHASHSEED=0: some Faker locales pick from sets, whose
    order (and so the names drawn) otherwise changes from run to run."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])


def load_pools(exclude_from: Sequence[Path], quick: bool = False) -> dict[str, pools_mod.Pools]:
    cache = POOL_CACHE.with_name("synth-pools-quick.json") if quick else POOL_CACHE
    return pools_mod.load_or_build(cache, [p for p in exclude_from if p.is_file()], quick)


def synthetic(pools: pools_mod.Pools, params: Params) -> list[Record]:
    out: list[Record] = []
    for style, n in params.synth.items():
        out.extend(styles.generate(style, n, pools, params.seed))
    return out


def _words(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {
        ln.strip().lower()
        for ln in path.read_text("utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    }


def build_lexicon(pools: pools_mod.Pools) -> dict[str, tuple[str, ...]]:
    """Dictionary tags per lower-case word: public name/place lists, English frequency,
    clinical vocabulary. Built from the train partition and the package's public lists only."""
    from wordfreq import top_n_list, zipf_frequency

    tags: dict[str, set[str]] = {}

    def add(words: Iterable[str], tag: str) -> None:
        for w in words:
            for part in re.findall(r"[^\W\d_]+", w.lower()):
                tags.setdefault(part, set()).add(tag)

    # Only half of each generator pool goes into the lexicon: a model that saw every training
    # name in its dictionary would learn "name = dictionary word" and miss unlisted names.
    def listed(entries: Iterable[str]) -> list[str]:
        return [e for e in entries if hashlib.md5(f"lex:{e}".encode()).digest()[0] % 2 == 0]

    for kind, tag in (("first", "fn"), ("last", "ln"), ("city", "ci"), ("street", "sn")):
        add(listed(pools[kind]), tag)
        add(listed(pools[f"common_{kind}"]) if f"common_{kind}" in pools.lists else [], tag)
    add(_words(PACKAGE_DATA / "names" / "first_names.txt"), "fn")
    add(_words(PACKAGE_DATA / "names" / "last_names.txt"), "ln")
    add(_words(PACKAGE_DATA / "places" / "us_cities.txt"), "ci")
    add(_words(PACKAGE_DATA / "places" / "world_cities.txt"), "ci")
    add(_words(PACKAGE_DATA / "clinical" / "vocabulary.txt"), "cl")
    for key in ("drug", "eponym", "jargon", "unit"):
        add(VOCAB[key], "cl")
    add(VOCAB["relword"], "rel")
    add(
        VOCAB["state"] + ["alabama", "alaska", "arizona", "oregon", "washington", "virginia"], "stt"
    )
    add(VOCAB["wday"][:14], "wd")
    add([m.lower() for m in crf_months()], "mon")
    titles = "dr drs mr mrs ms miss doctor md rn np pa do rrt phd dds prof"
    add(titles.split(), "ti")
    facility = (
        "hospital center centre medical med ctr clinic rehab nursing home memorial general "
        "regional university saint st infirmary va health"
    )
    add(facility.split(), "fac")
    for w in top_n_list("en", 60000):
        if w.isalpha():
            tags.setdefault(w, set()).add(f"z{int(zipf_frequency(w, 'en'))}")
    return {w: tuple(sorted(t)) for w, t in tags.items()}


def crf_months() -> list[str]:
    from synth.cast import MONTHS

    return MONTHS + [m[:3] for m in MONTHS] + ["sept"]


def bio_labels(text: str, tokens: Sequence[crf.Token], spans: Iterable[object]) -> list[str]:
    labels = ["O"] * len(tokens)
    starts = [t.start for t in tokens]
    import bisect

    for sp in sorted(spans, key=lambda s: s["start"]):  # type: ignore[index]
        label = str(sp["label"]).upper()  # type: ignore[index]
        label = LABEL_MAP.get(label, label)
        s, e = int(sp["start"]), int(sp["end"])  # type: ignore[index]
        i = bisect.bisect_right(starts, s) - 1
        i = max(i, 0)
        if tokens and tokens[i].end <= s:
            i += 1
        while i < len(tokens) and tokens[i].start < e:
            labels[i] = "I-" + label  # IO tagging: half the labels of BIO, same masking
            i += 1
    return labels


def train(
    records: Sequence[Record],
    lexicon: dict[str, tuple[str, ...]],
    out: Path,
    params: Params,
    log: bool = True,
) -> Path:
    """Featurize, train (SGD, L2), write model + lexicon + meta into `out`."""
    import pycrfsuite

    t0 = time.time()
    feat = crf.Featurizer(lexicon)
    trainer = pycrfsuite.Trainer(verbose=False)
    n_tokens = 0
    for rec in records:
        text = str(rec["text"])
        tokens = crf.tokenize(text)
        if not tokens:
            continue
        trainer.append(feat.features(text, tokens), bio_labels(text, tokens, rec["spans"]))  # type: ignore[arg-type]
        n_tokens += len(tokens)
    trainer.select("l2sgd")  # SGD converges in ~10 epochs; L-BFGS needs ~100 iterations
    trainer.set_params(
        {
            "c2": params.c2,
            "max_iterations": params.max_iterations,
            "feature.minfreq": params.minfreq,
            "feature.possible_transitions": True,
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    t1 = time.time()
    raw = out / "model.crfsuite"
    trainer.train(str(raw))
    export(raw, out / crf.MODEL_FILE)
    raw.unlink()
    t2 = time.time()
    import numpy as np

    crf.write_lexicon(out / crf.LEXICON_FILE, lexicon)
    meta = {
        "feature_version": crf.FEATURE_VERSION,
        "kind": "crfsuite linear-chain CRF, IO labels, SGD with L2",
        "documents": len(records),
        "tokens": n_tokens,
        "params": {
            "c2": params.c2,
            "epochs": params.max_iterations,
            "minfreq": params.minfreq,
            "seed": params.seed,
            "synthetic": params.synth,
            "dev_copies": params.dev_copies,
        },
        "dev_documents": sum(1 for r in records if not str(r["id"]).split("-")[0].isalpha()),
        "attributes": int(np.load(out / crf.MODEL_FILE)["state"].shape[0]),
        "train_seconds": round(t2 - t0, 1),
    }
    (out / crf.META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", "utf-8")
    if log:
        print(
            f"trained on {len(records)} docs, {n_tokens} tokens: featurize {t1 - t0:.0f}s, "
            f"SGD {t2 - t1:.0f}s -> {out}",
            file=sys.stderr,
        )
    return out


def export(raw: Path, dest: Path) -> None:
    """CRFsuite's binary model -> dense numpy weights over the active attributes only."""
    import numpy as np
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    tagger.open(str(raw))
    labels = tagger.labels()
    info = tagger.info()
    tagger.close()
    lab = {x: i for i, x in enumerate(labels)}
    attrs = sorted({a for a, _ in info.state_features})
    row = {a: i for i, a in enumerate(attrs)}
    state = np.zeros((len(attrs), len(labels)), dtype=np.float32)
    for (a, y), w in info.state_features.items():
        state[row[a], lab[y]] = w
    trans = np.zeros((len(labels), len(labels)), dtype=np.float32)
    for (y0, y1), w in info.transitions.items():
        trans[lab[y0], lab[y1]] = w
    np.savez_compressed(
        dest, attributes=np.array(attrs), state=state, transitions=trans, labels=np.array(labels)
    )


def surrogated(records: Sequence[Record], pools: pools_mod.Pools, params: Params) -> list[Record]:
    """`dev_copies` re-surrogated copies of annotated notes, each with fresh PHI strings."""
    return [
        rec
        for copy in range(params.dev_copies)
        for rec in resurrogate.resurrogate(records, pools, params.seed + copy)
    ]


def training_records(
    params: Params, dev: Path | None, quick: bool = False
) -> tuple[list[Record], dict[str, tuple[str, ...]]]:
    """Synthetic records (+ re-surrogated dev records) and the lexicon, for one training run."""
    pools = load_pools([dev] if dev else [], quick)
    records = synthetic(pools["train"], params)
    if dev is not None:
        records += surrogated(read_jsonl(dev), pools["train"], params)
    return records, build_lexicon(pools["train"])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="gold JSONL to re-surrogate")
    ap.add_argument("--no-dev", action="store_true", help="synthetic data only")
    ap.add_argument("--quick", action="store_true", help="tiny data, few iterations (smoke)")
    ap.add_argument("--seed", type=int, default=FULL.seed)
    args = ap.parse_args(argv)
    fixed_hash_seed()
    base = QUICK if args.quick else FULL
    params = dataclasses.replace(base, seed=args.seed)
    dev = None if args.no_dev or not args.dev.is_file() else args.dev
    if dev is None and not args.no_dev:
        print(f"note: {args.dev} not found; training on synthetic data only", file=sys.stderr)
    records, lexicon = training_records(params, dev, args.quick)
    train(records, lexicon, args.out, params)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
