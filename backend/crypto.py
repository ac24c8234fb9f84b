"""Field encryption (AES-256-GCM envelopes with a key ring) and keyed blind indexes.

Every encrypted value is an envelope:

    version(1) | len(key_id)(1) | key_id | nonce1(12) | wrapped_dek(32+16) | nonce2(12) | ciphertext+tag

A fresh data key (DEK) encrypts the value; the key ring's active key (KEK, named by id) wraps the
DEK. Both layers are bound by associated data to the table, column and row the value belongs to,
so a ciphertext copied to another row or column fails to decrypt. Nonces are always 12 random
bytes from the OS; no caller can supply one.

Phone numbers and emails are found through a blind index: HMAC-SHA256 over the normalised value
with a key derived per purpose from a separate index key, never from an encryption key.

The audit chain is keyed too: each encryption key has an audit MAC key derived from it with HKDF
under its own label, so no key serves two purposes. A retired encryption key leaves its audit MAC
key behind (`audit_keys`), because the audit entries sealed with it are kept for good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENVELOPE_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
AUDIT_MAC_LABEL = b"telecare|audit-chain-mac|v1"


class KeyMaterialError(Exception):
    """The key material is missing, malformed or too short."""


class DecryptionError(Exception):
    """A value could not be decrypted: wrong row/column, unknown key or tampered bytes."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeyMaterialError(f"{what} is not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise KeyMaterialError(f"{what} must be {KEY_BYTES} bytes, got {len(raw)}")
    return raw


@dataclass
class KeyRing:
    """Named key-encryption keys (all usable for decryption), one active for new values,
    plus the root keys for blind indexes and OTP hashing, and the audit MAC keys left behind by
    retired encryption keys (for verifying old audit entries only)."""

    keys: dict[str, bytes]
    active: str
    index_key: bytes
    otp_key: bytes
    audit_keys: dict[str, bytes] = field(default_factory=dict)
    _index_keys: dict[str, bytes] = field(default_factory=dict, repr=False)
    _audit_mac_keys: dict[str, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyMaterialError(f"active key {self.active!r} is not in the key ring")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES or not key_id or len(key_id.encode()) > 255:
                raise KeyMaterialError(f"key {key_id!r} is malformed")
        if len(self.index_key) != KEY_BYTES or len(self.otp_key) != KEY_BYTES:
            raise KeyMaterialError("index and OTP keys must be 32 bytes")
        if any(len(key) != KEY_BYTES for key in self.audit_keys.values()):
            raise KeyMaterialError("audit MAC keys must be 32 bytes")

    # --- construction and persistence -------------------------------------------------------

    @classmethod
    def generate(cls) -> KeyRing:
        return cls(
            keys={"k1": AESGCM.generate_key(bit_length=256)},
            active="k1",
            index_key=secrets.token_bytes(KEY_BYTES),
            otp_key=secrets.token_bytes(KEY_BYTES),
        )

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        try:
            data = json.loads(text)
            return cls(
                keys={kid: _unb64(v, f"key {kid}") for kid, v in data["keys"].items()},
                active=data["active"],
                index_key=_unb64(data["index_key"], "index_key"),
                otp_key=_unb64(data["otp_key"], "otp_key"),
                audit_keys={
                    kid: _unb64(v, f"audit key {kid}") for kid, v in data.get("audit_keys", {}).items()
                },
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise KeyMaterialError(f"key material is malformed: {exc}") from exc

    def to_json(self) -> str:
        data = {
            "keys": {kid: _b64(k) for kid, k in self.keys.items()},
            "active": self.active,
            "index_key": _b64(self.index_key),
            "otp_key": _b64(self.otp_key),
        }
        if self.audit_keys:
            data["audit_keys"] = {kid: _b64(k) for kid, k in self.audit_keys.items()}
        return json.dumps(data, indent=2)

    @classmethod
    def load_file(cls, path: Path) -> KeyRing:
        if not path.exists():
            raise KeyMaterialError(f"key file {path} does not exist (run `telecare keys init`)")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyMaterialError(f"key file {path} is readable by others (mode {oct(mode)}); chmod 600 it")
        return cls.from_json(path.read_text())

    def save_file(self, path: Path) -> None:
        """Write atomically with 0600 permissions from the start (never briefly world-readable)."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # var/: the owner's only
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.to_json())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def add_key(self) -> str:
        """Add a new key and make it the active one; older keys stay for decryption."""
        known = [*self.keys, *self.audit_keys]  # a retired id is never given to a new key
        number = 1 + max((int(k[1:]) for k in known if k[1:].isdigit()), default=0)
        key_id = f"k{number}"
        self.keys[key_id] = AESGCM.generate_key(bit_length=256)
        self.active = key_id
        return key_id

    def retire(self, key_id: str, *, keep_audit_mac: bool = False) -> None:
        """Drop an encryption key. With `keep_audit_mac` (audit entries name the key), its derived
        audit MAC key stays in the ring: it can verify those entries and decrypts nothing."""
        if key_id == self.active:
            raise KeyMaterialError("the active key cannot be retired")
        if keep_audit_mac and key_id in self.keys:
            self.audit_keys[key_id] = self.audit_mac_key(key_id)
        self.keys.pop(key_id, None)
        self._audit_mac_keys.pop(key_id, None)

    def audit_mac_key(self, key_id: str) -> bytes | None:
        """The key that seals audit entries naming `key_id`, or None if the ring has none."""
        if key_id in self.keys:
            if key_id not in self._audit_mac_keys:
                self._audit_mac_keys[key_id] = HKDF(
                    algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=AUDIT_MAC_LABEL
                ).derive(self.keys[key_id])
            return self._audit_mac_keys[key_id]
        return self.audit_keys.get(key_id)

    def derived_index_key(self, purpose: str) -> bytes:
        if purpose not in self._index_keys:
            self._index_keys[purpose] = HKDF(
                algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"bidx|{purpose}".encode()
            ).derive(self.index_key)
        return self._index_keys[purpose]


def _aad(table: str, column: str, row_id: str, key_id: str) -> bytes:
    return f"v{ENVELOPE_VERSION}|{table}|{column}|{row_id}|{key_id}".encode()


class FieldCipher:
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def encrypt(self, table: str, column: str, row_id: str, plaintext: str) -> bytes:
        return self.encrypt_bytes(table, column, row_id, plaintext.encode("utf-8"))

    def decrypt(self, table: str, column: str, row_id: str, envelope: bytes) -> str:
        return self.decrypt_bytes(table, column, row_id, envelope).decode("utf-8")

    def encrypt_bytes(self, table: str, column: str, row_id: str, plaintext: bytes) -> bytes:
        key_id = self.ring.active
        kid = key_id.encode()
        aad = _aad(table, column, row_id, key_id)
        dek = AESGCM.generate_key(bit_length=256)
        nonce1, nonce2 = os.urandom(NONCE_BYTES), os.urandom(NONCE_BYTES)
        wrapped = AESGCM(self.ring.keys[key_id]).encrypt(nonce1, dek, aad)
        body = AESGCM(dek).encrypt(nonce2, plaintext, aad)
        return bytes([ENVELOPE_VERSION, len(kid)]) + kid + nonce1 + wrapped + nonce2 + body

    def decrypt_bytes(self, table: str, column: str, row_id: str, envelope: bytes) -> bytes:
        key_id, nonce1, wrapped, nonce2, body = self._split(envelope)
        key = self.ring.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"unknown key id {key_id!r}")
        aad = _aad(table, column, row_id, key_id)
        try:
            dek = AESGCM(key).decrypt(nonce1, wrapped, aad)
            return AESGCM(dek).decrypt(nonce2, body, aad)
        except InvalidTag as exc:
            raise DecryptionError(f"{table}.{column} of row {row_id} failed authentication") from exc

    @staticmethod
    def key_id_of(envelope: bytes) -> str:
        return FieldCipher._split(envelope)[0]

    @staticmethod
    def _split(envelope: bytes) -> tuple[str, bytes, bytes, bytes, bytes]:
        if len(envelope) < 2 or envelope[0] != ENVELOPE_VERSION:
            raise DecryptionError("not a telecare envelope")
        kid_len = envelope[1]
        pos = 2 + kid_len
        wrapped_len = KEY_BYTES + 16
        if len(envelope) < pos + NONCE_BYTES + wrapped_len + NONCE_BYTES + 16:
            raise DecryptionError("envelope is truncated")
        key_id = envelope[2:pos].decode("ascii", errors="replace")
        nonce1 = envelope[pos : pos + NONCE_BYTES]
        pos += NONCE_BYTES
        wrapped = envelope[pos : pos + wrapped_len]
        pos += wrapped_len
        nonce2 = envelope[pos : pos + NONCE_BYTES]
        return key_id, nonce1, wrapped, nonce2, envelope[pos + NONCE_BYTES :]


def blind_index(ring: KeyRing, purpose: str, normalised_value: str) -> str:
    """Exact-match lookup key for an encrypted value (`purpose` e.g. "phone", "email").

    The caller normalises first (E.164 for phones, lower-case for emails) so that every spelling
    of one number gives one index."""
    key = ring.derived_index_key(purpose)
    return hmac.new(key, normalised_value.encode("utf-8"), hashlib.sha256).hexdigest()


def otp_digest(ring: KeyRing, challenge_id: str, code: str) -> str:
    return hmac.new(ring.otp_key, f"{challenge_id}|{code}".encode(), hashlib.sha256).hexdigest()


def load_key_ring(key_file: Path, keys_json: str | None) -> KeyRing:
    """Keys from settings (inline JSON) win over the key file; missing keys refuse to start."""
    if keys_json:
        return KeyRing.from_json(keys_json)
    return KeyRing.load_file(key_file)
