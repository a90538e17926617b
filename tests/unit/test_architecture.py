"""docs/architecture.md lists every module with its job, so the map cannot drift from the tree."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = {"phiguard": REPO / "src" / "phiguard", "phiguard_cli": REPO / "cli" / "phiguard_cli"}
ROW = re.compile(r"^\| `((?:phiguard|phiguard_cli)/[^`]*)` \| (.+) \|$")


def _documented() -> dict[str, str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Where things live", 1)[1]
    return {m.group(1): m.group(2) for line in section.splitlines() if (m := ROW.match(line))}


def _modules() -> set[str]:
    return {
        f"{name}/{path.relative_to(root).as_posix()}"
        for name, root in ROOTS.items()
        for path in root.rglob("*.py")
    }


def test_every_module_has_one_line_and_every_line_a_module() -> None:
    rows = _documented()
    folders = [r for r in rows if r.endswith("/")]
    modules = _modules()
    covered = {m for m in modules if m in rows or any(m.startswith(f) for f in folders)}
    assert sorted(modules - covered) == [], "modules missing from docs/architecture.md"
    stale = [r for r in rows if r not in modules and not any(m.startswith(r) for m in modules)]
    assert stale == [], "docs/architecture.md lists modules that do not exist"
    assert all(len(job.split()) >= 3 for job in rows.values()), "say what each module is for"


def test_every_module_says_why_in_its_docstring() -> None:
    import ast

    missing = [
        m
        for m in sorted(_modules())
        if ast.get_docstring(ast.parse(_path(m).read_text(encoding="utf-8"))) is None
        and not m.endswith("__main__.py")
    ]
    assert missing == []


def _path(module: str) -> Path:
    name, _, rest = module.partition("/")
    return ROOTS[name] / rest
