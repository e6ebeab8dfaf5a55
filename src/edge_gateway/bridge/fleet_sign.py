"""The NOC's side of remote configuration: its Ed25519 key pair and the signed envelopes it publishes.

The private key stays at the NOC (mode 0600); each gateway is installed with the public key only
(`remote_config.public_key_file`). The envelope format is in docs/fleet.md and
src/edge_gateway/agent/remote_config.py.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from edge_gateway.core import wire


def keygen(private_path: Path, public_path: Path) -> None:
    """Write a new key pair; never overwrite a private key (every gateway trusts its public half)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def sign_config(key: Ed25519PrivateKey, target: str, version: int, config_text: str) -> bytes:
    """The message for `edge/{target}/config`: the signed body, base64, and its signature."""
    body = json.dumps(
        {"format": wire.CONFIG_FORMAT_VERSION, "target": target, "version": version, "config": config_text},
        sort_keys=True,
    ).encode()
    envelope = {"body": base64.b64encode(body).decode(), "sig": base64.b64encode(key.sign(body)).decode()}
    return json.dumps(envelope).encode()
