"""The `telecare` command as an operator uses it, on a throwaway SQLite database."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from backend.accounts.chats import sealed_address
from backend.crypto import FieldCipher, KeyRing

TELECARE = str(Path(sys.executable).parent / "telecare")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TELECARE_")}
    environment.update(
        TELECARE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        TELECARE_KEY_FILE=str(tmp_path / "keys.json"),
        TELECARE_AUDIT_HEAD_FILE=str(tmp_path / "audit-heads.log"),
        TELECARE_ENV="development",
    )
    return environment


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TELECARE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_keys_init_creates_a_private_key_file_once(env):
    first = run(env, "keys", "init")
    assert first.returncode == 0 and "0600" in first.stdout
    key_file = Path(env["TELECARE_KEY_FILE"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_text()
    again = run(env, "keys", "init")
    assert again.returncode == 0 and "kept" in again.stdout
    assert key_file.read_text() == content


def test_commands_refuse_to_run_without_keys(env):
    result = run(env, "demo-data")
    assert result.returncode == 1
    assert "keys init" in result.stderr and "Traceback" not in result.stderr


def test_a_world_readable_key_file_is_refused(env):
    run(env, "keys", "init")
    os.chmod(env["TELECARE_KEY_FILE"], 0o644)
    result = run(env, "demo-data")
    assert result.returncode == 1 and "chmod 600" in result.stderr


def test_migrate_demo_data_admin_rotate_and_audit(env, tmp_path):
    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    first = run(env, "demo-data")
    assert first.returncode == 0 and "12 doctors" in first.stdout
    second = run(env, "demo-data")
    assert "0 users, 0 doctors, 0 slots" in second.stdout

    created = run(env, "admin", "add", "--email", "Boss@Example.org")
    assert created.returncode == 0 and "Admin created" in created.stdout
    assert "already an admin" in run(env, "admin", "add", "--email", "boss@example.org").stdout
    bad = run(env, "admin", "add", "--email", "not-an-email")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    taken = run(env, "admin", "add", "--email", "patient@demo.telecare.example")
    assert taken.returncode == 1 and "non-admin" in taken.stderr

    rotated = run(env, "keys", "rotate")
    assert rotated.returncode == 0 and "New active key k2" in rotated.stdout and "Restart" in rotated.stdout
    assert '"k1"' in Path(env["TELECARE_KEY_FILE"]).read_text(), "old keys stay until retired"
    retired = run(env, "keys", "retire")
    assert retired.returncode == 0 and "retired k1" in retired.stdout
    ring = json.loads(Path(env["TELECARE_KEY_FILE"]).read_text())
    assert set(ring["keys"]) == {"k2"}, "the old encryption key is gone"
    assert set(ring["audit_keys"]) == {"k1"}, "its audit MAC key stays: entries sealed with it remain"
    assert "Kept the audit MAC key of k1" in retired.stdout
    assert run(env, "demo-data").returncode == 0, "data is still readable with the rotated keys"

    verified = run(env, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout  # entries under k1 and k2
    head = verified.stdout.rsplit("Head: ", 1)[1].strip()
    assert run(env, "audit", "verify", "--expect", head).returncode == 0
    wrong = head.split(":")[0] + ":" + "0" * 64
    assert run(env, "audit", "verify", "--expect", wrong).returncode == 1


def test_demo_data_is_refused_in_production(env):
    env.update(
        TELECARE_ENV="production",
        TELECARE_PUBLIC_BASE_URL="https://clinic.example",
        TELECARE_OTP_DELIVERY="smtp",
        TELECARE_SMTP_URL="smtp://127.0.0.1:25",
        TELECARE_PAYMENT_GATEWAY="stripe",
        STRIPE_API_KEY="sk_live_example",
        STRIPE_WEBHOOK_SECRET="whsec_example",
    )
    assert run(env, "keys", "init").returncode == 0
    result = run(env, "demo-data")
    assert result.returncode == 1 and "production" in result.stderr


def test_bad_settings_are_reported_without_a_traceback(env):
    env.update(TELECARE_ENV="production")  # with the development OTP sender and an http URL
    result = run(env, "migrate")
    assert result.returncode == 1
    assert "Configuration" in result.stderr and "Traceback" not in result.stderr


def test_audit_verify_fails_after_a_row_is_edited_by_hand(env, tmp_path):
    for command in (("keys", "init"), ("migrate",), ("demo-data",)):
        assert run(env, *command).returncode == 0
    database = sqlite3.connect(tmp_path / "cli.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        database.execute("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 1")
    database.execute("DROP TRIGGER audit_entries_no_update")
    database.execute("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 1")
    database.commit()
    database.close()
    result = run(env, "audit", "verify")
    assert result.returncode == 1 and "BROKEN at entry 1" in result.stdout


def test_audit_publish_and_verify_against_the_published_heads(env, tmp_path):
    heads = Path(env["TELECARE_AUDIT_HEAD_FILE"])
    for command in (("keys", "init"), ("migrate",), ("demo-data",)):
        assert run(env, *command).returncode == 0
    unpublished = run(env, "audit", "verify")
    assert unpublished.returncode == 0 and f"no published heads in {heads}" in unpublished.stdout

    published = run(env, "audit", "publish")
    assert published.returncode == 0 and "Published head " in published.stdout
    assert stat.S_IMODE(heads.stat().st_mode) == 0o600
    line = json.loads(heads.read_text())
    assert set(line) == {"at", "seq", "link", "key_id"} and line["key_id"] == "k1"
    again = run(env, "audit", "publish")
    assert (
        again.returncode == 0 and "has not moved" in again.stdout and len(heads.read_text().splitlines()) == 1
    )

    verified = run(env, "audit", "verify")
    assert verified.returncode == 0
    assert (
        f"Audit chain intact: {line['seq']} entries; the 1 published head(s) match. Head: {line['seq']}:"
        in (verified.stdout)
    )

    database = sqlite3.connect(tmp_path / "cli.db")  # the newest entry is cut off
    database.execute("DROP TRIGGER audit_entries_no_delete")
    database.execute("DELETE FROM audit_entries WHERE seq = ?", (line["seq"],))
    database.commit()
    database.close()
    broken = run(env, "audit", "verify")
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert (
        f"Audit chain BROKEN at entry {line['seq']}: it is gone, yet the head published at " in broken.stdout
    )
    assert "entries were removed." in broken.stdout
    refused = run(env, "audit", "publish")
    assert refused.returncode == 1 and "Audit head NOT published" in refused.stdout


def test_audit_verify_needs_the_keys(env):
    assert run(env, "migrate").returncode == 0
    result = run(env, "audit", "verify")
    assert result.returncode == 1 and "keys init" in result.stderr and "Traceback" not in result.stderr


def test_migrate_reseals_entries_from_before_the_keyed_chain_once_keys_are_there(env, tmp_path):
    import sqlalchemy

    from backend.migrate import upgrade
    from tests.backend.test_audit_upgrade import _LEGACY, BEFORE, _legacy_rows

    upgrade(env["TELECARE_DATABASE_URL"], BEFORE)  # a database as the previous release left it
    database = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with database.begin() as connection:
        connection.execute(_LEGACY.insert(), _legacy_rows(4))
    database.dispose()

    stopped = run(env, "migrate")
    assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
    assert "Migration: the audit entries written so far must be re-sealed with the key ring" in stopped.stderr
    assert "nothing was changed" in stopped.stderr
    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    verified = run(env, "audit", "verify")
    assert verified.returncode == 0 and "Audit chain intact: 4 entries" in verified.stdout


def test_the_database_file_holds_no_contact_details_in_clear(env, tmp_path):
    for command in (("keys", "init"), ("migrate",), ("demo-data",)):
        assert run(env, *command).returncode == 0
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("cli.db*"))
    assert b"demo.telecare.example" not in raw, "emails are encrypted and blind-indexed"
    assert b"Asha Verma" not in raw, "the demo patient's name is in the encrypted profile"
    assert b"Ananya Rao" in raw, "professional directory data is public and stays searchable"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "1:x"}, "needs TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "bad secret!"}, "webhook_secret"),
    ],
)
def test_serve_explains_a_bad_telegram_configuration(env, extra, message):
    assert run(env, "keys", "init").returncode == 0
    result = run({**env, **extra}, "serve", "--port", "0")
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_whatsapp_failures_lists_what_twilio_reported_with_masked_numbers(env, tmp_path):
    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    assert "No failed WhatsApp messages" in run(env, "whatsapp", "failures").stdout
    database = sqlite3.connect(tmp_path / "cli.db")
    cipher = FieldCipher(KeyRing.load_file(Path(env["TELECARE_KEY_FILE"])))
    rows = [
        ("o1", "+919876543210", "SM" + "1" * 32, "text", "failed", 7, 63016, 1),
        ("o2", "+919876500000", "SM" + "2" * 32, "text", "delivered", 4, None, 0),
    ]
    database.executemany(
        "INSERT INTO outbound_messages (id, channel, address_enc, address_bidx, sid, kind, status, status_rank,"
        " error_code, fallback_sent, created_at, updated_at) VALUES (?, 'whatsapp', ?, ?, ?, ?, ?, ?, ?, ?,"
        " '2026-11-27 10:00:00.000000', '2026-11-27 10:00:00.000000')",
        [
            (row_id, *sealed_address(cipher, "outbound_messages", row_id, "whatsapp", number).values(), *rest)
            for row_id, number, *rest in rows
        ],
    )
    database.commit()
    database.close()
    listed = run(env, "whatsapp", "failures")
    assert listed.returncode == 0
    assert "63016" in listed.stdout and "template sent instead" in listed.stdout
    assert "+91•••••••210" in listed.stdout, "decrypted, then masked"
    assert "+919876543210" not in listed.stdout and "SM" + "2" * 32 not in listed.stdout


def test_worker_once_and_the_dead_letter_list(env, tmp_path):
    import sqlite3

    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    assert run(env, "demo-data").returncode == 0
    assert run(env, "outbox", "dead").stdout.strip() == "No dead letters."
    database = sqlite3.connect(tmp_path / "cli.db")
    (user_id,) = database.execute("SELECT id FROM users LIMIT 1").fetchone()
    now = "2026-01-01 00:00:00.000000"
    for key, status, attempts in (("cli:dead", "dead", 6), ("cli:due", "pending", 0)):
        database.execute(
            "INSERT INTO outbox (id, dedupe_key, user_id, template, kind, urgent, status, due_at, attempts,"
            " tried_channels, last_error, updated_at, created_at)"
            # urgent: quiet hours must not hold it, whatever the hour of the test run
            " VALUES (?, ?, ?, 'welcome', 'welcome', 1, ?, ?, ?, '', 'telegram: blocked', ?, ?)",
            (key.replace(":", "-"), key, user_id, status, now, attempts, now, now),
        )
    database.commit()
    dead = run(env, "outbox", "dead")
    assert dead.returncode == 0 and "cli-dead  welcome" in dead.stdout and "telegram: blocked" in dead.stdout
    worker = run(env, "worker", "--once")
    # Ours and the demo patient's welcome (loading demo data signs a patient up).
    assert worker.returncode == 0 and "Handled 2 message(s)." in worker.stdout, worker.stderr
    row = database.execute(
        "SELECT status, channel, delivery_status FROM outbox WHERE id = 'cli-due'"
    ).fetchone()
    assert row == ("sent", None, "waiting")  # a demo user with no chat yet: it waits for their first one
    database.close()


def test_admin_tokens_are_shown_once_listed_and_revoked(env):
    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    assert run(env, "admin", "add", "--email", "ops@example.com", "--name", "Ops").returncode == 0
    created = run(env, "admin-token", "create", "--email", "OPS@example.com", "--name", "ops laptop")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    token_id = created.stdout.split()[1]
    assert token.startswith("tca_") and len(token) > 40
    listed = run(env, "admin-token", "list")
    assert token_id in listed.stdout and "ops laptop" in listed.stdout and "live" in listed.stdout
    assert token not in listed.stdout  # the secret is never shown again
    db = env["TELECARE_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT token_digest FROM admin_tokens").fetchall()
    assert stored and all(token not in row[0] for row in stored)
    assert run(env, "admin-token", "revoke", token_id).returncode == 0
    assert "revoked" in run(env, "admin-token", "list").stdout
    again = run(env, "admin-token", "revoke", token_id)
    assert again.returncode == 1 and "No live token" in again.stderr


def test_admin_tokens_expire_and_the_list_says_who_when_and_in_what_state(env):
    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    assert run(env, "admin", "add", "--email", "ops@example.com", "--name", "Ops Lead").returncode == 0
    env = env | {"TELECARE_ADMIN_TOKEN_DAYS": "7"}
    week = run(env, "admin-token", "create", "--email", "ops@example.com", "--name", "week")
    day = run(env, "admin-token", "create", "--email", "ops@example.com", "--name", "day", "--days", "1")
    old = run(env, "admin-token", "create", "--email", "ops@example.com", "--name", "old")
    assert week.returncode == day.returncode == old.returncode == 0, day.stderr
    assert "expires" in week.stdout
    ids = {name: out.stdout.split()[1] for name, out in (("week", week), ("day", day), ("old", old))}
    db = env["TELECARE_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(db) as conn:
        lifetimes = dict(
            conn.execute("SELECT name, julianday(expires_at) - julianday(created_at) FROM admin_tokens")
        )
        # An old token, expired long ago whatever today's date (no wall-clock dependence).
        conn.execute(
            "UPDATE admin_tokens SET created_at = '2000-01-01 00:00:00.000000', "
            "expires_at = '2000-01-31 00:00:00.000000' WHERE name = 'old'"
        )
    assert round(lifetimes["week"], 6) == 7 and round(lifetimes["day"], 6) == 1
    listed = {line.split()[0]: line for line in run(env, "admin-token", "list").stdout.splitlines()}
    assert "owner Ops Lead" in listed[ids["week"]] and "never used" in listed[ids["week"]]
    assert listed[ids["week"]].endswith("live") and listed[ids["day"]].endswith("live")
    assert "expires 2000-01-31T00:00:00+00:00" in listed[ids["old"]] and listed[ids["old"]].endswith(
        "expired"
    )
    assert "created 2000-01-01T00:00:00+00:00" in listed[ids["old"]]
    assert run(env, "admin-token", "revoke", ids["old"]).returncode == 0, "an expired token can be revoked"
    relisted = {line.split()[0]: line for line in run(env, "admin-token", "list").stdout.splitlines()}
    assert " revoked " in relisted[ids["old"]] and relisted[ids["week"]].endswith("live")
    too_long = run(env, "admin-token", "create", "--email", "ops@example.com", "--name", "x", "--days", "400")
    assert too_long.returncode != 0 and "Traceback" not in too_long.stderr


def test_admin_tokens_only_for_admins(env):
    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    assert run(env, "demo-data").returncode == 0
    nobody = run(env, "admin-token", "create", "--email", "nobody@example.com", "--name", "x")
    assert nobody.returncode == 1 and "No account" in nobody.stderr and "Traceback" not in nobody.stderr
    doctor = run(
        env, "admin-token", "create", "--email", "dr-ananya-rao@demo.telecare.example", "--name", "x"
    )
    assert doctor.returncode == 1 and "only issued to active admins" in doctor.stderr
    assert run(env, "admin-token", "create", "--email", "not-an-email", "--name", "x").returncode == 1


def test_inbox_failed_lists_failed_updates_without_their_contents(env, tmp_path):
    assert run(env, "keys", "init").returncode == 0
    assert run(env, "migrate").returncode == 0
    assert "No failed updates" in run(env, "inbox", "failed").stdout
    database = sqlite3.connect(tmp_path / "cli.db")
    database.executemany(
        "INSERT INTO inbox_messages (id, channel, platform_id, payload_enc, processed_at, failed_at, failure,"
        " created_at) VALUES (?, ?, ?, ?, '2026-11-27 10:00:00.000000', ?, ?, '2026-11-27 10:00:00.000000')",
        [
            ("i1", "telegram", "u4242", None, "2026-11-27 10:01:00.000000", "file_unavailable"),
            ("i2", "whatsapp", "SM" + "7" * 32, None, "2026-11-27 10:02:00.000000", "engine_error"),
            ("i3", "telegram", "u4243", b"chest pain", None, None),  # handled: not listed
        ],
    )
    database.commit()
    database.close()
    listed = run(env, "inbox", "failed")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("2026-11-27 10:02 UTC  whatsapp") and "SM" + "7" * 32 in lines[0]
    assert "engine_error" in lines[0]
    assert "telegram" in lines[1] and "u4242" in lines[1] and "file_unavailable" in lines[1]
    assert "u4243" not in listed.stdout and "chest" not in listed.stdout


def test_keys_init_and_migrate_make_a_private_var_folder(env, tmp_path):
    """What `make run` does first, under the usual umask 022: var/ 0700, key file and database 0600."""
    var = tmp_path / "var"
    env = {**env, "TELECARE_KEY_FILE": str(var / "keys.json")}
    env["TELECARE_DATABASE_URL"] = f"sqlite+aiosqlite:///{var}/telecare.db"
    for command in (("keys", "init"), ("migrate",)):
        result = subprocess.run(
            [TELECARE, *command], env=env, capture_output=True, text=True, timeout=120, umask=0o022
        )
        assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    for name in ("keys.json", "telecare.db"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o600, name
