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
