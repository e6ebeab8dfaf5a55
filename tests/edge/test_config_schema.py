from __future__ import annotations

import json
import tomllib

import jsonschema
import pytest

from edge_gateway.cli.main import main
from tests.edge.test_config import BROKEN_AGENT, GOOD_AGENT


def schema(capsys: pytest.CaptureFixture[str], kind: str) -> dict[str, object]:
    assert main(["config-schema", "--kind", kind]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_agent_schema_accepts_a_good_file_and_rejects_a_bad_one(capsys: pytest.CaptureFixture[str]) -> None:
    agent = schema(capsys, "agent")
    jsonschema.validate(tomllib.loads(GOOD_AGENT), agent)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(tomllib.loads(BROKEN_AGENT), agent)
    with pytest.raises(jsonschema.ValidationError, match="sitee"):
        jsonschema.validate({"gateway": {"id": "gw", "sitee": "typo"}}, agent)


def test_bridge_schema(capsys: pytest.CaptureFixture[str]) -> None:
    bridge = schema(capsys, "bridge")
    jsonschema.validate({"influxdb": {"api": "v1", "database": "edge"}}, bridge)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"influxdb": {"api": "v9"}}, bridge)
    with pytest.raises(jsonschema.ValidationError, match="listen_prot"):
        jsonschema.validate({"influxdb": {}, "bridge": {"listen_prot": 1}}, bridge)


def test_the_schemas_carry_the_keys_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    """A key's `Doc` is its "description", for editors that complete and explain a config file."""
    bridge = json.dumps(schema(capsys, "bridge"))
    assert '"description": "host:port of /metrics and /healthz; port 0: any free one"' in bridge
    assert '"description": "the NOC\'s Ed25519 private key (edge fleet keygen)"' in bridge
    agent = json.dumps(schema(capsys, "agent"))
    assert '"description": "also the MQTT client id and topic segment"' in agent
