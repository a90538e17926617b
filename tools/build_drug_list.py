"""Regenerate src/phiguard/data/clinical/drugs.txt: one-word drug names (generic and brand).

Source (build-time only): `drug-named-entity-recognition` (PyPI, MIT), whose dictionary comes
from the DrugBank open vocabulary (CC0), MeSH, Medline Plus and the NHS. The out-of-vocabulary
name sweep uses the list so that "Zofran" or "Lasix" capitalised in prose is never read as a
name. Nothing here is derived from any evaluation corpus.
Run: `.venv/bin/pip install drug-named-entity-recognition`, then
`.venv/bin/python tools/build_drug_list.py`.
"""

from __future__ import annotations

import bz2
import pickle
import re
import unicodedata
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "phiguard" / "data" / "clinical" / "drugs.txt"
WORD = re.compile(r"^[a-z][a-z-]{2,}[a-z]$")


def main() -> None:
    path = resources.files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    with path.open("rb") as fh, bz2.open(fh) as unzipped:
        data = pickle.load(unzipped)
    words: set[str] = set()
    for variant in data["drug_variant_to_canonical"]:
        for part in str(variant).split():
            norm = unicodedata.normalize("NFKD", part)
            w = "".join(c for c in norm if ord(c) < 128).lower().strip(",.()")
            if WORD.match(w):
                words.add(w)
    header = (
        "# One-word drug names (generic and brand), from the DrugBank open vocabulary (CC0) via\n"
        "# drug-named-entity-recognition (MIT); regenerate with scripts/build_drug_list.py.\n"
    )
    OUT.write_text(header + "\n".join(sorted(words)) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {OUT}")


if __name__ == "__main__":
    main()
