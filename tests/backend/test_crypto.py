"""Field encryption envelopes, the key ring and its files, blind indexes and OTP digests."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from backend.accounts.contacts import normalise_phone
from backend.crypto import (
    ENVELOPE_VERSION,
    KEY_BYTES,
    NONCE_BYTES,
    DecryptionError,
    FieldCipher,
    KeyMaterialError,
    KeyRing,
    blind_index,
    load_key_ring,
    otp_digest,
)

WRAPPED_BYTES = KEY_BYTES + 16  # the DEK plus its GCM tag


def parse_envelope(envelope: bytes) -> dict:
    """Independent parser for version(1) | len(kid)(1) | kid | nonce1(12) | wrapped(48) | nonce2(12) | body."""
    assert envelope[0] == ENVELOPE_VERSION
    kid_len = envelope[1]
    pos = 2
    kid = envelope[pos : pos + kid_len].decode("ascii")
    pos += kid_len
    nonce1 = envelope[pos : pos + NONCE_BYTES]
    pos += NONCE_BYTES
    wrapped = envelope[pos : pos + WRAPPED_BYTES]
    pos += WRAPPED_BYTES
    nonce2 = envelope[pos : pos + NONCE_BYTES]
    pos += NONCE_BYTES
    return {"kid": kid, "nonce1": nonce1, "wrapped": wrapped, "nonce2": nonce2, "body": envelope[pos:]}


# --- round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    [
        "Penicillin",
        "",
        "😷🤒💊 allergy to 🥜",
        "पेनिसिलिन से एलर्जी",  # Devanagari
        "mixed: ñ, ü, 中文, العربية, \x00 nul and \n newline",
        "x" * 100_000,
        "अ" * 35_000,  # ~100 KB of 3-byte UTF-8
    ],
    ids=["ascii", "empty", "emoji", "devanagari", "mixed", "100k-ascii", "100k-devanagari"],
)
def test_round_trip(cipher: FieldCipher, plaintext: str) -> None:
    sealed = cipher.encrypt("patient_profiles", "allergies", "row-1", plaintext)
    assert isinstance(sealed, bytes)
    assert cipher.decrypt("patient_profiles", "allergies", "row-1", sealed) == plaintext
    if plaintext:
        assert plaintext.encode() not in sealed


def test_same_plaintext_gives_different_envelopes(cipher: FieldCipher) -> None:
    first = cipher.encrypt("users", "phone", "u1", "+919876543210")
    second = cipher.encrypt("users", "phone", "u1", "+919876543210")
    assert first != second


def test_envelope_layout(cipher: FieldCipher, key_ring: KeyRing) -> None:
    plaintext = "Penicillin"
    sealed = cipher.encrypt("t", "c", "r", plaintext)
    parts = parse_envelope(sealed)
    assert parts["kid"] == key_ring.active == FieldCipher.key_id_of(sealed)
    # AES-GCM: ciphertext is as long as the plaintext, plus a 16-byte tag.
    assert len(parts["body"]) == len(plaintext.encode()) + 16


# --- binding to table, column and row --------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "row_id"),
    [
        ("patient_profiles", "allergies", "row-2"),  # another row
        ("patient_profiles", "medications", "row-1"),  # another column
        ("users", "allergies", "row-1"),  # another table
        ("patient_profiles", "allergies", "row-1 "),  # a near-identical row id
        ("patient_profiles", "allergies", ""),
    ],
    ids=["other-row", "other-column", "other-table", "row-id-suffix", "empty-row-id"],
)
def test_ciphertext_moved_elsewhere_fails(cipher: FieldCipher, table: str, column: str, row_id: str) -> None:
    sealed = cipher.encrypt("patient_profiles", "allergies", "row-1", "Penicillin")
    with pytest.raises(DecryptionError):
        cipher.decrypt(table, column, row_id, sealed)
    # …while the original place still works.
    assert cipher.decrypt("patient_profiles", "allergies", "row-1", sealed) == "Penicillin"


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_flipping_any_byte_fails(cipher: FieldCipher, mask: int) -> None:
    sealed = cipher.encrypt("patient_profiles", "allergies", "row-1", "Penicillin")
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= mask
        with pytest.raises(DecryptionError):
            cipher.decrypt("patient_profiles", "allergies", "row-1", bytes(tampered))


@pytest.mark.parametrize("cut", [0, 1, 2, 10, 60, 80])
def test_truncated_envelope_fails(cipher: FieldCipher, cut: int) -> None:
    sealed = cipher.encrypt("t", "c", "r", "value")
    with pytest.raises(DecryptionError):
        cipher.decrypt("t", "c", "r", sealed[:cut])


def test_extra_trailing_bytes_fail(cipher: FieldCipher) -> None:
    sealed = cipher.encrypt("t", "c", "r", "value")
    with pytest.raises(DecryptionError):
        cipher.decrypt("t", "c", "r", sealed + b"\x00")


def test_unknown_key_id_fails(cipher: FieldCipher) -> None:
    other = FieldCipher(KeyRing.generate())
    other.ring.keys["k9"] = other.ring.keys.pop("k1")
    other.ring.active = "k9"
    sealed = other.encrypt("t", "c", "r", "secret")
    assert FieldCipher.key_id_of(sealed) == "k9"
    with pytest.raises(DecryptionError, match="unknown key id"):
        cipher.decrypt("t", "c", "r", sealed)


def test_same_key_id_but_different_key_fails() -> None:
    ours, theirs = FieldCipher(KeyRing.generate()), FieldCipher(KeyRing.generate())
    sealed = theirs.encrypt("t", "c", "r", "secret")
    assert FieldCipher.key_id_of(sealed) == ours.ring.active == "k1"
    with pytest.raises(DecryptionError):
        ours.decrypt("t", "c", "r", sealed)


def test_relabelled_key_id_fails() -> None:
    """Rewriting the key id in the envelope to another key of the ring does not help an attacker."""
    ring = KeyRing.generate()
    ring.add_key()
    cipher = FieldCipher(ring)
    sealed = cipher.encrypt("t", "c", "r", "secret")
    assert FieldCipher.key_id_of(sealed) == "k2"
    relabelled = sealed.replace(b"k2", b"k1", 1)
    assert FieldCipher.key_id_of(relabelled) == "k1"
    with pytest.raises(DecryptionError):
        cipher.decrypt("t", "c", "r", relabelled)


# --- nonces ------------------------------------------------------------------------------------


def test_no_key_nonce_pair_repeats_over_100k_values(key_ring: KeyRing) -> None:
    cipher = FieldCipher(key_ring)
    started = time.monotonic()
    count = 100_000
    kek_pairs: set[tuple[str, bytes]] = set()
    all_nonces: set[bytes] = set()
    wrapped_deks: set[bytes] = set()
    for i in range(count):
        parts = parse_envelope(cipher.encrypt("t", "c", str(i % 7), "same value"))
        kek_pairs.add((parts["kid"], parts["nonce1"]))
        all_nonces.add(parts["nonce1"])
        all_nonces.add(parts["nonce2"])
        wrapped_deks.add(parts["wrapped"])
    assert len(kek_pairs) == count  # (KEK id, nonce) never repeats
    assert len(all_nonces) == 2 * count  # no nonce repeats at all, DEK layer included
    assert len(wrapped_deks) == count  # a fresh data key every time
    assert all(len(n) == NONCE_BYTES for n in all_nonces)
    assert time.monotonic() - started < 10


# --- rotation ---------------------------------------------------------------------------------


def test_rotation_keeps_old_values_readable_and_seals_new_ones_under_new_key() -> None:
    ring = KeyRing.generate()
    cipher = FieldCipher(ring)
    old = cipher.encrypt("users", "phone", "u1", "+919876543210")
    assert FieldCipher.key_id_of(old) == "k1"

    new_id = ring.add_key()
    assert new_id == "k2"
    assert ring.active == "k2"
    assert set(ring.keys) == {"k1", "k2"}

    assert cipher.decrypt("users", "phone", "u1", old) == "+919876543210"
    new = cipher.encrypt("users", "phone", "u1", "+919876543210")
    assert FieldCipher.key_id_of(new) == "k2"
    assert cipher.decrypt("users", "phone", "u1", new) == "+919876543210"

    assert ring.add_key() == "k3"
    assert FieldCipher.key_id_of(cipher.encrypt("t", "c", "r", "x")) == "k3"


def test_retire_refuses_the_active_key_and_removes_others() -> None:
    ring = KeyRing.generate()
    cipher = FieldCipher(ring)
    old = cipher.encrypt("t", "c", "r", "value")
    ring.add_key()

    with pytest.raises(KeyMaterialError):
        ring.retire("k2")
    assert "k2" in ring.keys and ring.active == "k2"

    ring.retire("k1")
    assert set(ring.keys) == {"k2"}
    with pytest.raises(DecryptionError, match="unknown key id"):
        cipher.decrypt("t", "c", "r", old)


def test_add_key_after_retiring_never_reuses_an_id() -> None:
    ring = KeyRing.generate()
    ring.add_key()  # k2
    ring.add_key()  # k3
    ring.retire("k2")
    assert ring.add_key() == "k4"


# --- key ring persistence ---------------------------------------------------------------------


def test_json_round_trip(key_ring: KeyRing) -> None:
    copy = KeyRing.from_json(key_ring.to_json())
    assert copy.keys == key_ring.keys
    assert copy.active == key_ring.active
    assert copy.index_key == key_ring.index_key
    assert copy.otp_key == key_ring.otp_key
    sealed = FieldCipher(key_ring).encrypt("t", "c", "r", "value")
    assert FieldCipher(copy).decrypt("t", "c", "r", sealed) == "value"
    assert blind_index(copy, "phone", "+919876543210") == blind_index(key_ring, "phone", "+919876543210")


def _valid_json() -> dict:
    return json.loads(KeyRing.generate().to_json())


def _short_key(data: dict) -> dict:
    data["keys"]["k1"] = "AAAAAAAAAAAAAAAAAAAAAA=="  # 16 bytes
    return data


def _short_index_key(data: dict) -> dict:
    data["index_key"] = "AAAA"
    return data


def _bad_base64(data: dict) -> dict:
    data["otp_key"] = "not base64 at all!"
    return data


def _missing_active(data: dict) -> dict:
    data["active"] = "k7"
    return data


def _no_otp_key(data: dict) -> dict:
    del data["otp_key"]
    return data


def _keys_is_a_list(data: dict) -> dict:
    data["keys"] = [data["keys"]["k1"]]
    return data


@pytest.mark.parametrize(
    "breaker",
    [_short_key, _short_index_key, _bad_base64, _missing_active, _no_otp_key, _keys_is_a_list],
)
def test_from_json_refuses_malformed_material(breaker) -> None:
    with pytest.raises(KeyMaterialError):
        KeyRing.from_json(json.dumps(breaker(_valid_json())))


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"keys": {}}', "not json"])
def test_from_json_refuses_non_key_rings(text: str) -> None:
    with pytest.raises(KeyMaterialError):
        KeyRing.from_json(text)


def _write(path, text: str, mode: int) -> None:
    path.write_text(text)
    os.chmod(path, mode)


def test_save_file_writes_0600_and_load_file_reads_it(tmp_path) -> None:
    ring = KeyRing.generate()
    ring.add_key()
    path = tmp_path / "nested" / "keys.json"
    old_umask = os.umask(0)  # even with a permissive umask the file must not be group/world readable
    try:
        ring.save_file(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_suffix(".tmp").exists()
    loaded = KeyRing.load_file(path)
    assert loaded.keys == ring.keys and loaded.active == "k2"


def test_save_file_tightens_an_existing_world_readable_file(tmp_path) -> None:
    path = tmp_path / "keys.json"
    _write(path, "old", 0o644)
    KeyRing.generate().save_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_load_file_refuses_a_missing_file(tmp_path) -> None:
    with pytest.raises(KeyMaterialError, match="does not exist"):
        KeyRing.load_file(tmp_path / "absent.json")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_load_file_refuses_a_file_others_can_read(tmp_path, mode: int) -> None:
    path = tmp_path / "keys.json"
    _write(path, KeyRing.generate().to_json(), mode)
    with pytest.raises(KeyMaterialError, match="readable by others"):
        KeyRing.load_file(path)


def test_load_file_refuses_malformed_json(tmp_path) -> None:
    path = tmp_path / "keys.json"
    _write(path, "{ this is not json", 0o600)
    with pytest.raises(KeyMaterialError):
        KeyRing.load_file(path)


def test_load_file_refuses_short_keys(tmp_path) -> None:
    path = tmp_path / "keys.json"
    _write(path, json.dumps(_short_key(_valid_json())), 0o600)
    with pytest.raises(KeyMaterialError):
        KeyRing.load_file(path)


def test_load_key_ring_prefers_inline_json_and_refuses_nothing(tmp_path) -> None:
    inline = KeyRing.generate()
    on_disk = KeyRing.generate()
    path = tmp_path / "keys.json"
    on_disk.save_file(path)
    assert load_key_ring(path, inline.to_json()).keys == inline.keys
    assert load_key_ring(path, None).keys == on_disk.keys
    with pytest.raises(KeyMaterialError):
        load_key_ring(tmp_path / "absent.json", None)


# --- blind index and OTP digests ----------------------------------------------------------------


def test_blind_index_is_the_same_for_every_spelling_of_a_number(key_ring: KeyRing) -> None:
    spellings = ["98765 43210", "+91-9876543210", "09876543210", "+91 98765 43210", "919876543210"]
    normalised = {normalise_phone(s, "IN") for s in spellings}
    assert normalised == {"+919876543210"}
    indexes = {blind_index(key_ring, "phone", normalise_phone(s, "IN")) for s in spellings}
    assert len(indexes) == 1
    assert blind_index(key_ring, "phone", "+919876543211") not in indexes


def test_blind_index_depends_on_purpose_and_key(key_ring: KeyRing) -> None:
    value = "asha@example.com"
    phone_index = blind_index(key_ring, "phone", value)
    email_index = blind_index(key_ring, "email", value)
    assert phone_index != email_index
    assert blind_index(KeyRing.generate(), "email", value) != email_index
    assert len(email_index) == 64 and value not in email_index
    assert blind_index(key_ring, "email", value) == email_index  # deterministic


def test_blind_index_key_is_not_an_encryption_key(key_ring: KeyRing) -> None:
    derived = key_ring.derived_index_key("phone")
    assert derived not in key_ring.keys.values()
    assert derived != key_ring.index_key
    assert derived != key_ring.derived_index_key("email")


def test_otp_digest_depends_on_challenge_code_and_key(key_ring: KeyRing) -> None:
    digest = otp_digest(key_ring, "challenge-1", "123456")
    assert otp_digest(key_ring, "challenge-1", "123456") == digest
    assert otp_digest(key_ring, "challenge-2", "123456") != digest
    assert otp_digest(key_ring, "challenge-1", "123457") != digest
    assert otp_digest(KeyRing.generate(), "challenge-1", "123456") != digest
    assert "123456" not in digest
