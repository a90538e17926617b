"""The library names the setting that fixes an error (`PhiguardError.hint`); the CLI's one
stderr line appends the flag. Library messages themselves never quote a CLI flag."""

from __future__ import annotations

import ast
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import CliResult
from phiguard.errors import Failure, Hint, VaultError
from phiguard.vaults.sqlite import SQLiteVault
from phiguard_cli.hints import FLAGS, error_line

SRC = Path(__file__).resolve().parents[2] / "src" / "phiguard"

_FLAG = re.compile(r"--[a-z][a-z-]+")
_AWS_COMMAND = re.compile(r"`aws [^`]*`")  # the AWS CLI's own flags are its business


def test_every_hint_has_a_flag() -> None:
    assert set(FLAGS) == set(Hint)


def test_error_line() -> None:
    assert error_line(VaultError("vault v.db not found")) == "phiguard: error: vault v.db not found"
    err = VaultError("vault v.db not found", hint=Hint.VAULT_PATH)
    assert error_line(err) == "phiguard: error: vault v.db not found; pass --vault PATH"


def _one_line(r: CliResult, code: int) -> str:
    assert r.code == code, r.err
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("phiguard: error: "), r.err
    return lines[0]


def test_missing_vault_and_key_file(
    run: Callable[..., CliResult], tmp_path: Path, phiguard_home: Path
) -> None:
    note = tmp_path / "n.txt"
    note.write_text("0" * 64 + "\n")
    missing = tmp_path / "missing.db"
    line = _one_line(run("reid", "--vault", str(missing), str(note)), 5)
    assert line == f"phiguard: error: vault {missing} not found; pass --vault PATH"
    vault = tmp_path / "v.db"
    SQLiteVault(vault).close()
    key = tmp_path / "missing.key"
    line = _one_line(run("reid", "--vault", str(vault), "--key-file", str(key), str(note)), 6)
    assert line == f"phiguard: error: key file {key} not found; pass --key-file or set PHIGUARD_KEY"


def test_no_region(
    run: Callable[..., CliResult], aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    line = _one_line(run("vault", "create-table"), 5)
    assert line.startswith("phiguard: error: no AWS region configured for DynamoDB")
    assert line.endswith("; pass --region or set AWS_REGION")
    line = _one_line(run("detect", "--backend", "comprehend", "-", stdin=b"Seen today.\n"), 4)
    assert line.startswith("phiguard: error: no AWS region configured for Comprehend Medical")
    assert line.endswith("; pass --region or set AWS_REGION")


def test_unknown_profile(run: Callable[..., CliResult], aws_env: None) -> None:
    line = _one_line(run("vault", "create-table", "--profile", "nope"), 5)
    assert line == (
        "phiguard: error: AWS profile 'nope' not found in ~/.aws/config or ~/.aws/credentials; "
        "pass --profile to use another AWS profile"
    )


def _messages(path: Path) -> list[tuple[int, str]]:
    """String parts of the arguments of every `...Error(...)` call in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if not name.endswith("Error"):
            continue
        for arg in node.args:
            for part in ast.walk(arg):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found.append((part.lineno, part.value))
    return found


def _flags_in(path: Path) -> list[str]:
    return [
        f"{line}: {flag}"
        for line, text in _messages(path)
        for flag in _FLAG.findall(_AWS_COMMAND.sub("", text))
    ]


def _quoting_flags() -> dict[str, list[str]]:
    found = {str(p.relative_to(SRC)): _flags_in(p) for p in sorted(SRC.rglob("*.py"))}
    return {name: flags for name, flags in found.items() if flags}


def test_library_messages_quote_no_cli_flag() -> None:
    quoting = _quoting_flags()
    assert not quoting, f"give these errors a Hint instead: {quoting}"


def test_failures_keep_the_hint() -> None:
    """A record's failure crosses threads and processes as a `Failure`; its hint goes along."""
    err = VaultError("DynamoDB table 't' does not exist", hint=Hint.CREATE_TABLES)
    failure = pickle.loads(pickle.dumps(Failure.of(err)))
    again = failure.error()
    assert type(again) is VaultError and str(again) == str(err) and again.hint is Hint.CREATE_TABLES
    assert pickle.loads(pickle.dumps(err)).hint is Hint.CREATE_TABLES


def test_the_checker_sees_flags(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "raise VaultError(f'table {t} missing; pass --table NAME')\n"
        "raise errors.ConfigError('run `aws sso login --profile p`')\n"
        "log.info('--debug is fine outside errors')\n"
    )
    assert _flags_in(source) == ["1: --table"]
