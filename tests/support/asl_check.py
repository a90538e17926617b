"""A small Amazon States Language checker: what cfn-lint's schema cannot tell.

`problems(definition)` lists, per scope (the machine, each Map's ItemProcessor or Iterator,
each Parallel branch): transitions to states that do not exist, states no path from StartAt
reaches, states that neither go on nor end, Tasks without a Retry with backoff on the errors
named, and Tasks without a Catch of States.ALL.

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

TERMINAL = {"Succeed", "Fail"}


def _targets(state: Mapping[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catch in state.get("Catch", []):
        yield catch["Next"]


def _scopes(definition: Mapping[str, Any], where: str = "machine") -> Iterator[tuple[str, Any]]:
    yield where, definition
    for name, state in definition["States"].items():
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if inner is not None:
            yield from _scopes(inner, f"{where}/{name}")
        for i, branch in enumerate(state.get("Branches", [])):
            yield from _scopes(branch, f"{where}/{name}[{i}]")


def _reachable(scope: Mapping[str, Any]) -> set[str]:
    states = scope["States"]
    seen: set[str] = set()
    todo = [scope["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        todo.extend(_targets(states[name]))
    return seen


def problems(definition: Mapping[str, Any], retry_on: Iterable[str] = ()) -> list[str]:
    """Everything wrong with `definition` (see the module docstring); [] if nothing."""
    wanted = set(retry_on)
    found: list[str] = []
    for where, scope in _scopes(definition):
        states = scope.get("States") or {}
        if scope.get("StartAt") not in states:
            found.append(f"{where}: StartAt {scope.get('StartAt')!r} is not a state")
            continue
        for name, state in states.items():
            kind = state.get("Type")
            for target in _targets(state):
                if target not in states:
                    found.append(f"{where}/{name}: goes to {target!r}, which is not a state")
            ends = state.get("End") is True or kind in TERMINAL or kind == "Choice"
            if not ends and "Next" not in state:
                found.append(f"{where}/{name}: neither Next nor End")
            if kind == "Task":
                found.extend(_task_problems(f"{where}/{name}", state, wanted))
        for name in sorted(set(states) - _reachable(scope)):
            found.append(f"{where}/{name}: unreachable from StartAt")
    return found


def _task_problems(where: str, state: Mapping[str, Any], wanted: set[str]) -> list[str]:
    found = []
    retried = {
        e
        for r in state.get("Retry", [])
        if r.get("BackoffRate", 2.0) > 1 and r.get("MaxAttempts", 3) > 1
        for e in r["ErrorEquals"]
    }
    if not state.get("Retry"):
        found.append(f"{where}: Task without Retry")
    elif missing := sorted(wanted - retried):
        found.append(f"{where}: no Retry with backoff on {', '.join(missing)}")
    if not any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])):
        found.append(f"{where}: Task without a Catch of States.ALL")
    return found


def placeholders(text: str) -> set[str]:
    """The `${Name}` DefinitionSubstitutions a definition's text uses."""
    import re

    return set(re.findall(r"\$\{(\w+)\}", text))
