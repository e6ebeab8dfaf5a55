"""Remote configuration from the NOC: a signed TOML config on the gateway's own MQTT topic.

The envelope (docs/fleet.md) is JSON `{"body": <base64>, "sig": <base64>}`; `body` is the exact bytes the
NOC signed with its Ed25519 key: JSON `{"format": 1, "target", "version", "config"}`. The gateway checks,
in this order and before it parses anything it has not verified: the size, the envelope, the signature
against the public key it was installed with, the target (its own id), the version (must be greater than
the last one accepted: a replayed or reordered message is refused), and the config itself exactly as
`edge check-config` checks it. Each refusal lists every problem found, is counted by reason and stays in
the outcome the status reports; the running config is never touched by a refused message.

The last accepted version and the last good config live next to the buffer (`remote-config/`), so a
restart neither accepts an old message again nor forgets what to roll back to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from annotated_types import Ge, Gt, Le

from edge_gateway.agent.verify_child import MAX_MESSAGE_BYTES, verify_in_child
from edge_gateway.core import wire
from edge_gateway.core.config import Doc, Section
from edge_gateway.core.config_checks import Checks

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from edge_gateway.agent.config import AgentConfig

STATE_DIR_NAME = "remote-config"
# Sections the agent reads only at start: a remote config changing them is applied by a clean exit that
# systemd restarts (Restart=always), never silently ignored.
RESTART_SECTIONS = ("gateway", "uplink", "buffer", "status", "remote_config", "log_level")


def _key_when_enabled(section: RemoteConfigSection) -> list[str]:
    """`check-config` (and systemd's ExecStartPre) catch a missing or wrong key, not the agent's start."""
    if not section.enabled:
        return []
    # cryptography (6 MB of RSS) is imported only by a gateway that takes remote configuration.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    path = section.public_key_file
    if path is None or not path.is_file():
        return ["enabled needs public_key_file, a readable file with the NOC's public key"]
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError):
        return [f"public_key_file {path}: not a PEM public key"]
    if not isinstance(key, Ed25519PublicKey):
        return [f"public_key_file {path}: not an Ed25519 key"]
    return []


@dataclass(frozen=True, kw_only=True)
class RemoteConfigSection(Section):
    """`[remote_config]` of the agent: off unless the gateway was installed with the NOC's public key."""

    enabled: bool = False
    public_key_file: Annotated[Path | None, Doc("the NOC's Ed25519 public key (PEM)")] = None
    max_bytes: Annotated[int, Ge(1024), Le(MAX_MESSAGE_BYTES), Doc("bigger messages: refused unread")] = (
        256 * 1024
    )
    rollback_after_s: Annotated[
        float, Gt(0), Le(86_400), Doc("the watch window after an apply (poll rounds, the broker)")
    ] = 120.0

    checks = Checks(check=_key_when_enabled, reads=("enabled", "public_key_file"))


def config_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Accepted:
    version: int
    text: str
    config: AgentConfig
    profiles: dict[str, Any]  # the vendor profiles checked with it


@dataclass(frozen=True)
class Refused:
    version: int | None
    reason: str  # counted by this word
    problems: list[str]

    @property
    def outcome(self) -> str:
        return "refused: " + "; ".join(self.problems)


def load_public_key(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from edge_gateway.core.config import ConfigError

    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError([f"remote_config.public_key_file: cannot read {path}: {exc}"]) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError([f"remote_config.public_key_file: {path} is not an Ed25519 public key"])
    return key


def write_atomically(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    Path(tmp).replace(path)


@dataclass
class RemoteState:
    """What survives a restart: the last accepted version and the config to roll back to."""

    folder: Path
    version: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def load(cls, folder: Path) -> RemoteState:
        state = cls(folder)
        try:
            state.version = int(json.loads((folder / "state.json").read_text())["version"])
        except (OSError, ValueError, KeyError, TypeError):
            state.version = 0
        return state

    def accept(self, version: int) -> None:
        self.version = version
        write_atomically(self.folder / "state.json", json.dumps({"version": version}))

    @property
    def last_good(self) -> Path:
        return self.folder / "last-good.toml"

    @property
    def candidate(self) -> Path:
        return self.folder / "candidate.toml"


def decode_signed(payload: bytes, key: Ed25519PublicKey) -> tuple[dict[str, object] | None, Refused | None]:
    """The verified body, or why not: nothing unverified is parsed beyond the envelope. Runs in the
    verifying child (verify_child.py), which imports cryptography; `verified` is the agent's side."""
    from cryptography.exceptions import InvalidSignature

    try:
        envelope = json.loads(payload)
        body = base64.b64decode(envelope["body"], validate=True)
        signature = base64.b64decode(envelope["sig"], validate=True)
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error) as exc:
        return None, Refused(None, "malformed", [f"not a config envelope ({type(exc).__name__})"])
    try:
        key.verify(signature, body)
    except InvalidSignature:
        return None, Refused(None, "signature", ["signature does not verify with the installed NOC key"])
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("format") != wire.CONFIG_FORMAT_VERSION:
            raise ValueError(f"format must be {wire.CONFIG_FORMAT_VERSION}")
        return data, None
    except ValueError as exc:
        return None, Refused(None, "malformed", [f"signed body unreadable: {exc}"])


def verified(payload: bytes, key_file: Path) -> tuple[dict[str, object] | None, Refused | None]:
    """The verified body, or why not, from a child process: the agent imports no cryptography."""
    body, reason, problems = verify_in_child(payload, key_file)
    return (body, None) if body is not None else (None, Refused(None, reason, problems))


def examine(
    payload: bytes, gateway_id: str, key_file: Path, state: RemoteState, max_bytes: int
) -> Accepted | Refused:
    """Every check a remote config passes before it may run; the running config is not touched here."""
    if len(payload) > max_bytes:
        return Refused(None, "oversized", [f"message of {len(payload)} bytes, more than {max_bytes}"])
    data, refused = verified(payload, key_file)
    if refused is not None or data is None:
        assert refused is not None
        return refused
    version, target, text = data.get("version"), data.get("target"), data.get("config")
    if not isinstance(version, int) or not isinstance(target, str) or not isinstance(text, str):
        return Refused(None, "malformed", ["signed body lacks an integer version, a target or a config"])
    problems = []
    if target != gateway_id:
        problems.append(f"for gateway {target!r}, this is {gateway_id!r}")
    if version <= state.version:
        problems.append(f"version {version} is not newer than {state.version} (replay or reordered)")
    if problems:
        return Refused(version, "target" if target != gateway_id else "replay", problems)
    return _validated(version, text, gateway_id, state)


def _validated(version: int, text: str, gateway_id: str, state: RemoteState) -> Accepted | Refused:
    from edge_gateway.agent.config_child import check_in_child
    from edge_gateway.core.config import ConfigError

    write_atomically(state.candidate, text)
    try:
        checked = check_in_child(state.candidate)  # exactly what `edge check-config` runs
    except ConfigError as exc:
        return Refused(version, "invalid", list(exc.problems))
    except (OSError, ValueError) as exc:  # TOML syntax errors are ValueErrors
        return Refused(version, "invalid", [f"not a readable config: {exc}"])
    config = checked.config
    if config.gateway.id != gateway_id:
        return Refused(version, "invalid", [f"gateway.id: {config.gateway.id!r} is not {gateway_id!r}"])
    return Accepted(version, text, config, checked.profiles)


def restart_needed(old: AgentConfig, new: AgentConfig) -> list[str]:
    """The sections that change only by a restart of the agent."""
    return [name for name in RESTART_SECTIONS if getattr(old, name, None) != getattr(new, name, None)]
