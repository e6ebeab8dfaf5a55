"""User-based Security Model pieces (RFC 3414, RFC 3826): keys, digests and AES-128-CFB.

Keys are localised once per AP at start (password -> Ku -> Kul with the AP's engine ID), because the
1 MB password expansion is the one expensive step and a real agent also does it once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

_EXPANDED_BYTES = 1_048_576
AUTH_PARAM_BYTES = 12  # HMAC-MD5-96 and HMAC-SHA-96 both truncate to 96 bits
_HASHES = {"MD5": "md5", "SHA": "sha1"}


class UsmError(ValueError):
    """A v3 credential that cannot be used (unknown protocol, password too short)."""


def password_to_key(password: str, auth_protocol: str) -> bytes:
    """RFC 3414 A.2: hash the password repeated to 1 MB (Ku)."""
    if auth_protocol not in _HASHES:
        raise UsmError(f"unsupported auth protocol {auth_protocol!r} (MD5 or SHA)")
    if len(password) < 8:
        raise UsmError("USM passwords have at least 8 characters")
    raw = password.encode()
    repeated = (raw * (_EXPANDED_BYTES // len(raw) + 1))[:_EXPANDED_BYTES]
    return hashlib.new(_HASHES[auth_protocol], repeated).digest()


def localize_key(key: bytes, engine_id: bytes, auth_protocol: str) -> bytes:
    """RFC 3414 A.2: Kul = H(Ku || engineID || Ku)."""
    return hashlib.new(_HASHES[auth_protocol], key + engine_id + key).digest()


def localized_key(password: str, engine_id: bytes, auth_protocol: str) -> bytes:
    return localize_key(password_to_key(password, auth_protocol), engine_id, auth_protocol)


def auth_digest(key: bytes, message: bytes, auth_protocol: str) -> bytes:
    """HMAC-MD5-96 / HMAC-SHA-96 over the whole message with the auth parameters zeroed."""
    return hmac.new(key, message, _HASHES[auth_protocol]).digest()[:AUTH_PARAM_BYTES]


def _aes(key: bytes, boots: int, time_s: int, salt: bytes) -> Cipher[CFB]:
    iv = boots.to_bytes(4, "big") + time_s.to_bytes(4, "big") + salt
    return Cipher(algorithms.AES(key[:16]), CFB(iv))


def aes_encrypt(key: bytes, boots: int, time_s: int, salt: bytes, plain: bytes) -> bytes:
    """RFC 3826: AES-128-CFB, IV = engineBoots || engineTime || 64-bit salt, no padding."""
    encryptor = _aes(key, boots, time_s, salt).encryptor()
    return encryptor.update(plain) + encryptor.finalize()


def aes_decrypt(key: bytes, boots: int, time_s: int, salt: bytes, cipher_text: bytes) -> bytes:
    decryptor = _aes(key, boots, time_s, salt).decryptor()
    return decryptor.update(cipher_text) + decryptor.finalize()


@dataclass(frozen=True, slots=True)
class V3User:
    """One USM user of an AP: the passwords as an operator configures them.

    `auth_key`/`priv_key` are passphrases (net-snmp's -A/-X); `None` means that level is off, so
    a user with neither is noAuthNoPriv, one with only `auth_key` is authNoPriv.
    """

    user: str
    auth_key: str | None = None
    priv_key: str | None = None
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"

    @property
    def level(self) -> str:
        if self.auth_key is None:
            return "noAuthNoPriv"
        return "authNoPriv" if self.priv_key is None else "authPriv"


@dataclass(frozen=True, slots=True)
class LocalizedUser:
    """A V3User with keys localised to one engine ID: what the agent checks requests against."""

    name: bytes
    auth_protocol: str
    auth_key: bytes | None
    priv_key: bytes | None

    @classmethod
    def from_user(cls, user: V3User, engine_id: bytes) -> LocalizedUser:
        if user.priv_key is not None and (user.auth_key is None or user.priv_protocol != "AES"):
            raise UsmError("privacy needs authentication and AES (AES-128-CFB)")
        auth = None if user.auth_key is None else localized_key(user.auth_key, engine_id, user.auth_protocol)
        priv = None if user.priv_key is None else localized_key(user.priv_key, engine_id, user.auth_protocol)
        return cls(user.user.encode(), user.auth_protocol, auth, priv)
