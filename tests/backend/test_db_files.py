"""The SQLite database and its companions are the owner's only, from the first byte."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db import create_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    """022, the umask with which SQLite's own files came out 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


async def test_a_new_database_is_0600_in_a_new_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data" / "telecare.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES ('x')"))
        assert mode(path.parent) == 0o700
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert mode(file) == 0o600, file.name
    finally:
        await engine.dispose()


async def test_files_an_older_version_left_readable_are_narrowed(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    path = folder / "telecare.db"
    for file in (path, Path(f"{path}-wal")):
        file.write_bytes(b"")
        file.chmod(0o644)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await engine.dispose()
    assert mode(path) == mode(Path(f"{path}-wal")) == 0o600
    assert mode(folder) == 0o755, "a folder that already existed is left as it was"
