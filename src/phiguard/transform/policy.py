"""What happens to each PHI type: a `Policy` of per-type actions, its presets, its TOML file.

`mask`, `deid` and `surrogate` are presets of one engine (phiguard.transform.engine); a policy
file changes the action of some types, e.g. shift dates, surrogate names, tokenize IDs. A
Policy is frozen, hashable and picklable (it travels in `phiguard.Config` to worker processes
and Spark executors) and holds no secret.

Actions, and whether re-identification can undo them:

- `mask`: '#' for every character; `label`: `[TYPE]`. Irreversible by design: no vault row.
- `token`: a salted SHA3-256 token (consistent with `--consistent`); its value is in the vault.
- `surrogate`: a realistic stand-in (phiguard.surrogates); a date's surrogate is the shifted
  date. `shift`: dates only, the same as `surrogate` for a date. The mapping (where the
  surrogate stands in the output, what it replaced) is sealed in the vault.
- `keep`: the span stays as written (not PHI for this use, e.g. a Limited Data Set's towns).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from phiguard.errors import ConfigError
from phiguard.spans import PhiType
from phiguard.surrogates import DEFAULT_MAX_DAYS, DEFAULT_MIN_DAYS, date_offset


class Action(StrEnum):
    MASK = "mask"
    LABEL = "label"
    TOKEN = "token"
    SURROGATE = "surrogate"
    SHIFT = "shift"
    KEEP = "keep"


#: Actions whose replacements are sealed in the vault (re-identification undoes them).
REVERSIBLE = frozenset({Action.TOKEN, Action.SURROGATE, Action.SHIFT})
#: Actions that need the surrogate key (a consistency scope and a date offset).
KEYED = frozenset({Action.SURROGATE, Action.SHIFT})

_TYPES = frozenset(t.value for t in PhiType)
_CHECK_KEY = b"\0" * 16  # only to validate a date range with the offset function itself


@dataclass(frozen=True, slots=True)
class Policy:
    """An action per PHI type (`actions`, sorted (type, action) pairs), `default` for the
    others, and the date shift: offsets drawn from [`min_days`, `max_days`] without 0 (a
    multiple of 7 with `keep_weekday`); `day_first` reads 03/04 as 3 April."""

    default: Action = Action.TOKEN
    actions: tuple[tuple[str, Action], ...] = ()
    min_days: int = DEFAULT_MIN_DAYS
    max_days: int = DEFAULT_MAX_DAYS
    keep_weekday: bool = False
    day_first: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "default", _action(self.default, "default"))
        if self.default is Action.SHIFT:
            raise ConfigError("'shift' is for DATE only; it cannot be the default action")
        by_type: dict[str, Action] = {}
        for phi_type, action in self.actions:
            name = str(phi_type).upper()
            if name not in _TYPES:
                known = ", ".join(sorted(_TYPES))
                raise ConfigError(f"unknown PHI type {phi_type!r} in the policy (known: {known})")
            act = _action(action, name)
            if act is Action.SHIFT and name != PhiType.DATE:
                raise ConfigError(f"'shift' is for DATE only, not {name}")
            by_type[name] = act
        object.__setattr__(self, "actions", tuple(sorted(by_type.items())))
        try:
            date_offset(
                _CHECK_KEY, "", self.min_days, self.max_days, keep_weekday=self.keep_weekday
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    # -- building ------------------------------------------------------------------------

    @classmethod
    def of(cls, default: Action | str = Action.TOKEN, **actions: Action | str) -> Policy:
        """`Policy.of("surrogate", ID="token", AGE="keep")`."""
        return cls(
            _action(default, "default"), tuple((t, _action(a, t)) for t, a in actions.items())
        )

    @classmethod
    def mask(cls, style: str = "hash") -> Policy:
        """`phiguard mask`: '#' per character (style "hash") or `[TYPE]` (style "label")."""
        return cls(Action.LABEL if style == "label" else Action.MASK)

    @classmethod
    def deid(cls) -> Policy:
        """`phiguard deid`: every span a token."""
        return cls(Action.TOKEN)

    @classmethod
    def surrogate(cls) -> Policy:
        """`phiguard surrogate`: every span a surrogate, dates shifted."""
        return cls(Action.SURROGATE, ((PhiType.DATE.value, Action.SHIFT),))

    def with_actions(self, default: Action | str | None = None, **actions: Action | str) -> Policy:
        """This policy with `default` and some types' actions changed."""
        merged = dict(self.actions)
        merged.update({t.upper(): _action(a, t) for t, a in actions.items()})
        return replace(
            self,
            default=_action(default, "default") if default is not None else self.default,
            actions=tuple(merged.items()),
        )

    def with_dates(self, **changes: Any) -> Policy:
        """This policy with some date-shift settings changed (None leaves one as it is)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    # -- reading -------------------------------------------------------------------------

    def action(self, phi_type: str) -> Action:
        for t, a in self.actions:
            if t == phi_type:
                return a
        return self.default

    def _all(self) -> set[Action]:
        return {self.default, *(a for _, a in self.actions)}

    @property
    def reversible(self) -> bool:
        """Some action writes to the vault (token, surrogate, shift)."""
        return bool(self._all() & REVERSIBLE)

    @property
    def keyed(self) -> bool:
        """Some action needs the surrogate key (surrogate, shift)."""
        return bool(self._all() & KEYED)

    def describe(self) -> str:
        """One line for logs and errors: actions only, never a value."""
        parts = [f"{t}={a}" for t, a in self.actions]
        return f"default={self.default}" + (f" {' '.join(parts)}" if parts else "")


def masking(policy: Policy) -> Policy:
    """`policy`, checked to write nothing to a vault (mask, label, keep): what masking takes."""
    reversible = [f"{t}={a}" for t, a in policy.actions if a in REVERSIBLE]
    if policy.default in REVERSIBLE:
        reversible.insert(0, f"default={policy.default}")
    if reversible:
        raise ConfigError(
            f"masking keeps no vault, so the policy cannot use {reversible[0]}: use deid or "
            "surrogate, or only mask, label and keep"
        )
    return policy


def _action(value: Any, where: str) -> Action:
    try:
        return Action(str(value).lower())
    except ValueError:
        raise ConfigError(
            f"unknown action {value!r} for {where} (known: {', '.join(a.value for a in Action)})"
        ) from None


# -- the policy file -------------------------------------------------------------------------

_TOP = ("default", "actions", "dates")
_DATES = {"min_days": int, "max_days": int, "keep_weekday": bool, "day_first": bool}


def load_policy(path: str | Path, base: Policy | None = None) -> Policy:
    """`base` (a command's preset) changed by the TOML policy file at `path`:

        default = "surrogate"            # types not listed (else the command's default)
        [actions]
        NAME = "surrogate"
        DATE = "shift"
        ID = "token"
        AGE = "keep"
        [dates]
        min_days = -365                  # offsets drawn from [min_days, max_days], never 0
        max_days = -1
        keep_weekday = false             # offsets a multiple of 7
        day_first = false                # 03/04/2012 is 3 April

    Every key is checked: an unknown key, type or action is a ConfigError naming it."""
    base = base or Policy()
    where = f"policy {path}"
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not valid UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    _known(data, _TOP, where)
    actions = data.get("actions", {})
    if not isinstance(actions, dict) or not all(isinstance(v, str) for v in actions.values()):
        raise ConfigError(f"{where}: [actions] maps PHI types to action names")
    dates = data.get("dates", {})
    if not isinstance(dates, dict):
        raise ConfigError(f"{where}: [dates] must be a table")
    _known(dates, tuple(_DATES), f"{where} [dates]")
    for name, kind in _DATES.items():
        if name in dates and type(dates[name]) is not kind:
            raise ConfigError(
                f"{where}: dates.{name} must be {'an integer' if kind is int else 'true or false'}"
            )
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{where}: default must be an action name")
    try:
        return base.with_actions(default, **actions).with_dates(**dates)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _known(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})")
