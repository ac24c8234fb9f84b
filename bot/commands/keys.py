"""`telecare keys` and `telecare audit`: the key ring, its rotation, and the audit chain."""

from __future__ import annotations

import sys

import typer

from backend.settings import get_settings
from bot.commands.common import fail, in_database, load_cipher

keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)


@keys_app.command("init")
def keys_init() -> None:
    """Create a local key file (mode 0600) if there is none."""
    from backend.crypto import KeyRing

    settings = get_settings()
    if settings.keys_json:
        typer.echo("Keys come from TELECARE_KEYS_JSON; no key file needed.")
        return
    if settings.key_file.exists():
        typer.echo(f"Key file {settings.key_file} already exists; kept.")
        return
    KeyRing.generate().save_file(settings.key_file)
    typer.echo(
        f"Created development key file {settings.key_file} (mode 0600). Keep it out of version control "
        "and back it up: without it the encrypted data cannot be read."
    )


_RESTART = (
    "Restart every running telecare process now: they keep the keys they started with and cannot read "
    "values sealed under the new key until they do."
)


def _reencrypt(cipher) -> tuple[int, set[str], set[str]]:
    """Re-encrypts; returns how many values, and the key ids envelopes and audit entries name."""
    from backend.keys import audit_key_ids, key_ids_in_use, reencrypt_all

    async def run(sessions) -> tuple[int, set[str], set[str]]:
        changed = await reencrypt_all(sessions, cipher)
        return changed, await key_ids_in_use(sessions), await audit_key_ids(sessions)

    return in_database(run)


def _key_file_ring():
    from backend.crypto import KeyRing

    settings = get_settings()
    if settings.keys_json:
        fail("Keys come from TELECARE_KEYS_JSON: rotate them where they are stored.")
    if not settings.key_file.exists():
        fail(f"No key file at {settings.key_file}.")
    return settings.key_file, KeyRing.load_file(settings.key_file)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new active key and re-encrypt every value under it (old keys stay, for reading)."""
    from backend.crypto import FieldCipher

    key_file, ring = _key_file_ring()
    new_key = ring.add_key()
    ring.save_file(key_file)  # first, so that a crash mid-way leaves every key available
    changed, _used, _audited = _reencrypt(FieldCipher(ring))
    typer.echo(f"New active key {new_key}; re-encrypted {changed} values.")
    typer.secho(_RESTART, fg=typer.colors.YELLOW)
    typer.echo("After the restart, `telecare keys retire` drops the old keys.")


@keys_app.command("retire")
def keys_retire() -> None:
    """After a rotation and a restart: re-encrypt what is left under old keys, then drop them."""
    from backend.crypto import FieldCipher

    key_file, ring = _key_file_ring()
    changed, used, audited = _reencrypt(FieldCipher(ring))
    retired = [k for k in list(ring.keys) if k != ring.active and k not in used]
    for key_id in retired:
        # Audit entries are never re-sealed: the key's audit MAC key stays, to verify them.
        ring.retire(key_id, keep_audit_mac=key_id in audited)
    ring.save_file(key_file)
    typer.echo(f"Re-encrypted {changed} values; retired {', '.join(retired) or 'no keys'}.")
    if kept := [k for k in retired if k in audited]:
        typer.echo(
            f"Kept the audit MAC key of {', '.join(kept)} (it decrypts nothing): audit entries sealed with it "
            "are verified with it."
        )


@audit_app.command("verify")
def audit_verify(
    expect: str = typer.Option(
        None, help="SEQ:HASH printed by an earlier verify; fails if the chain no longer holds that entry."
    ),
) -> None:
    """Recompute the audit chain's keyed links and check every head published in the head file;
    exits 1 at the first entry that was changed or removed."""
    from backend import audit, audit_heads

    expected_seq, _, expected_hash = (expect or "").partition(":")
    if expect and not (expected_seq.isdigit() and int(expected_seq) >= 1 and len(expected_hash) == 64):
        fail("--expect takes SEQ:HASH as printed by `telecare audit verify`.")
    load_cipher()  # the links are keyed: no keys, no check
    head_file = get_settings().audit_head_file
    try:
        anchors = [head.anchor() for head in audit_heads.read_heads(head_file)]
    except audit_heads.HeadFileError as exc:
        typer.secho(f"Audit head file damaged: {exc}.", fg=typer.colors.RED)
        sys.exit(1)
    published = len(anchors)
    if expect:
        anchors.append(audit.Anchor(int(expected_seq), expected_hash, "the entry noted with --expect"))

    async def run(sessions):
        async with sessions() as session:
            return await audit.verify_chain(session, anchors=anchors)

    report = in_database(run)
    if not report.ok:
        typer.secho(
            f"Audit chain BROKEN at entry {report.first_bad_seq}: {report.reason}.", fg=typer.colors.RED
        )
        sys.exit(1)
    heads = f"the {published} published head(s) match" if published else f"no published heads in {head_file}"
    typer.echo(
        f"Audit chain intact: {report.entries} entries; {heads}. Head: {report.head_seq}:{report.head_hash}"
    )


@audit_app.command("publish")
def audit_publish() -> None:
    """Append the chain's head to the head file (TELECARE_AUDIT_HEAD_FILE) now, if it moved."""
    from backend import audit_heads
    from backend.models import utcnow

    load_cipher()
    head_file = get_settings().audit_head_file

    async def run(sessions):
        async with sessions() as session:
            return await audit_heads.publish(session, head_file, now=utcnow())

    try:
        head = in_database(run)
    except audit_heads.HeadFileError as exc:
        typer.secho(f"Audit head NOT published: {exc}.", fg=typer.colors.RED)
        sys.exit(1)
    if head is None:
        typer.echo(f"The chain has not moved since its last published head; {head_file} unchanged.")
        return
    typer.echo(f"Published head {head.seq}:{head.link} (key {head.key_id}) to {head_file}.")
