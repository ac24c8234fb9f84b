"""The key ring of a test run: the `key_ring` fixture, and the default of helpers that build rows
with sealed columns (a chat's address) and are called without a cipher."""

from __future__ import annotations

from backend.crypto import FieldCipher, KeyRing

TEST_RING = KeyRing.generate()
TEST_RING.add_key()  # two keys from the start: k1 (old) and k2 (active)


def run_cipher() -> FieldCipher:
    return FieldCipher(TEST_RING)
