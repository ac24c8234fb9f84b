"""The picture in DESIGN.md section 2 stays true: import-linter contracts and ruff run here, so a
forbidden import or a lint error fails the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PACKAGES = ("bot", "conversations", "notifications", "backend")


def _run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_import_contracts_hold():
    result = _run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "5 kept" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden_import"),
    [
        ("backend/leak.py", "import conversations.engine\n"),
        ("conversations/leak.py", "import bot.app\n"),
        ("conversations/leak2.py", "import notifications.sender\n"),
        ("notifications/leak.py", "import conversations.messages\n"),
        ("backend/leak3.py", "import fastapi  # allowed\nimport aiogram\n"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, forbidden_import: str):
    """On a copy of the tree, add one forbidden import: lint-imports must fail."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(forbidden_import)
    if "aiogram" in forbidden_import:
        # import-linter needs the external package to exist to see the import; fake a minimal one.
        (tmp_path / "aiogram").mkdir()
        (tmp_path / "aiogram" / "__init__.py").write_text("")
    result = _run(str(BIN / "lint-imports"), "--no-cache", cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout


def test_ruff_lint():
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
