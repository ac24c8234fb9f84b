"""What every `telecare` command shares: failing with a message, the key ring, the database."""

from __future__ import annotations

import asyncio

import typer

from backend.settings import get_settings


def fail(message: str, *, code: int = 1) -> None:
    """Stop with `message` on stderr: exit code 1, or 2 for bad input on the command line."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=code)


def load_cipher():
    from backend.crypto import FieldCipher, KeyMaterialError, load_key_ring

    settings = get_settings()
    try:
        return FieldCipher(load_key_ring(settings.key_file, settings.keys_json))
    except KeyMaterialError as exc:
        fail(f"Keys: {exc}")


def open_database():
    """The database, with the key ring when there is one (it seals and checks the audit chain;
    the commands that need keys have already refused to run without them)."""
    from backend.crypto import KeyMaterialError, load_key_ring
    from backend.db import create_engine, create_sessionmaker

    settings = get_settings()
    try:
        ring = load_key_ring(settings.key_file, settings.keys_json)
    except KeyMaterialError:
        ring = None
    engine = create_engine(settings.database_url)
    return engine, create_sessionmaker(engine, ring)


def in_database(work):
    """Run `await work(sessions)` against the database and dispose of the engine after, for
    the one-shot commands."""

    async def run():
        engine, sessions = open_database()
        try:
            return await work(sessions)
        finally:
            await engine.dispose()

    return asyncio.run(run())
