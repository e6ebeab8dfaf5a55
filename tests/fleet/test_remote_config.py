"""A signed remote config: each way a message can be wrong is refused with its reason, the good one passes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_gateway.agent.remote_config import Accepted, Refused, RemoteState, examine
from edge_gateway.bridge.fleet_sign import keygen, load_private_key, sign_config

pytestmark = pytest.mark.fleet
MAX_BYTES = 64 * 1024


def config_text(tmp_path: Path, gateway: str = "gw-1", interval: str = "30") -> str:
    return (
        f'[gateway]\nid = "{gateway}"\n[uplink]\nurl = "mqtt://127.0.0.1:1883"\n'
        f'[buffer]\npath = "{tmp_path}/buffer.db"\n'
        '[[snmp.devices]]\nname = "ap-1"\nhost = "127.0.0.1:161"\ncommunity = "public"\n'
        f"interval_s = {interval}\n"
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
    return load_private_key(tmp_path / "noc.key"), tmp_path / "noc.pub"


def check(tmp_path: Path, keys: tuple[Ed25519PrivateKey, Path], payload: bytes) -> Accepted | Refused:
    state = RemoteState.load(tmp_path / "state")
    state.version = 5
    return examine(payload, "gw-1", keys[1], state, MAX_BYTES)


def test_a_good_config_is_accepted(tmp_path: Path, keys: tuple[Ed25519PrivateKey, Path]) -> None:
    result = check(tmp_path, keys, sign_config(keys[0], "gw-1", 6, config_text(tmp_path)))
    assert isinstance(result, Accepted)
    assert result.version == 6 and result.config.snmp.devices[0].name == "ap-1"


def test_each_bad_message_is_refused_with_its_reason(
    tmp_path: Path, keys: tuple[Ed25519PrivateKey, Path]
) -> None:
    good = config_text(tmp_path)
    other_key = Ed25519PrivateKey.generate()
    signed = sign_config(keys[0], "gw-1", 6, good)
    envelope = json.loads(signed)
    body = json.loads(base64.b64decode(envelope["body"]))
    body["version"] = 99  # tampered after signing
    envelope["body"] = base64.b64encode(json.dumps(body).encode()).decode()
    cases = {
        "signature": sign_config(other_key, "gw-1", 6, good),
        "replay": sign_config(keys[0], "gw-1", 5, good),
        "target": sign_config(keys[0], "gw-2", 6, good),
        "malformed": signed[: len(signed) // 2],
        "oversized": sign_config(keys[0], "gw-1", 6, good + "#" * MAX_BYTES),
        "invalid": sign_config(keys[0], "gw-1", 6, config_text(tmp_path, interval='"fast"')),
    }
    for reason, payload in cases.items():
        result = check(tmp_path, keys, payload)
        assert isinstance(result, Refused), reason
        assert result.reason == reason and result.problems, result
    tampered = check(tmp_path, keys, json.dumps(envelope).encode())
    assert isinstance(tampered, Refused) and tampered.reason == "signature"
    nested = check(tmp_path, keys, b"[" * 60_000)  # deeper than the JSON parser's recursion limit
    assert isinstance(nested, Refused) and nested.reason == "malformed"


def test_a_config_for_another_gateway_inside_is_refused(
    tmp_path: Path, keys: tuple[Ed25519PrivateKey, Path]
) -> None:
    result = check(tmp_path, keys, sign_config(keys[0], "gw-1", 6, config_text(tmp_path, gateway="gw-9")))
    assert isinstance(result, Refused) and "gateway.id" in result.outcome


def test_the_accepted_version_survives_a_restart(tmp_path: Path) -> None:
    RemoteState.load(tmp_path).accept(7)
    assert RemoteState.load(tmp_path).version == 7


def test_check_config_refuses_a_missing_or_wrong_public_key(tmp_path: Path) -> None:
    from edge_gateway.agent.config import load_agent_checked
    from edge_gateway.core.config import ConfigError

    (tmp_path / "not-a-key.pem").write_text("hello\n")
    for key_file, expected in (("missing.pem", "readable file"), ("not-a-key.pem", "not a PEM public key")):
        config = tmp_path / "edge.toml"
        config.write_text(
            config_text(tmp_path)
            + f'[remote_config]\nenabled = true\npublic_key_file = "{tmp_path}/{key_file}"\n'
        )
        with pytest.raises(ConfigError) as refused:
            load_agent_checked(config)
        assert any(expected in problem for problem in refused.value.problems), refused.value.problems
