"""`edge fleet push --canary N`: a staged rollout from the NOC to real agent processes through Mosquitto as
shipped. A config the canary refuses, and one it applies but then rolls back by itself, both stop the
rollout at the canary, say where, and never reach the rest; a good one reaches the canary, then the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway_dev import servers
from tests.integration.fleet_helpers import agent_config
from tests.integration.shipped_broker import ShippedBroker, shipped_broker
from tests.integration.test_fleet_cli import bridge_config, edge, online, statuses_when

pytestmark = [pytest.mark.integration, pytest.mark.fleet]
GATEWAYS = ("gw-1", "gw-2")
ROLLBACK_AFTER_S = 6


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ShippedBroker]:
    with shipped_broker(tmp_path / "broker", GATEWAYS, ()) as shipped:
        shipped.dynsec("add-noc", "noc", password=shipped.password("noc"))
        yield shipped


def installed(text: str) -> str:
    """The gateways judge a config once, `rollback_after_s` after applying it: time enough for the
    first poll of a new device to fail even on a busy machine."""
    return text.replace("rollback_after_s = 3", f"rollback_after_s = {ROLLBACK_AFTER_S}")


def push(tmp_path: Path, text: str, version: int, *extra: str) -> tuple[int, list[str]]:
    path = tmp_path / f"v{version}.toml"
    path.write_text(text)
    bridge = tmp_path / "bridge.toml"
    args = ("--gateways", "gw-[12]", "-c", str(bridge), "--version", str(version), "--canary", "1", *extra)
    done = edge("fleet", "push", str(path), *args)
    return done.returncode, done.stdout.splitlines()


def test_canary_stops_a_refused_and_a_rolled_back_config_then_a_good_one_goes_everywhere(
    tmp_path: Path, broker: ShippedBroker, snmpd: servers.Server
) -> None:
    assert (
        edge(
            "fleet", "keygen", "--private", str(tmp_path / "noc.key"), "--public", str(tmp_path / "noc.pub")
        ).returncode
        == 0
    )
    bridge_config(tmp_path, broker)
    ap = f"{snmpd.host}:{snmpd.port}"
    configs = {gw: tmp_path / f"{gw}.toml" for gw in GATEWAYS}
    for gateway, path in configs.items():
        path.write_text(installed(agent_config(tmp_path, broker, {"ap-1": ap}, gateway)))
    with (
        servers.edge_process(["agent", "-c", str(configs["gw-1"])], tmp_path / "gw-1.log"),
        servers.edge_process(["agent", "-c", str(configs["gw-2"])], tmp_path / "gw-2.log"),
    ):
        statuses_when(broker, online(*GATEWAYS))
        group = installed(agent_config(tmp_path, broker, {"ap-1": ap, "ap-2": ap}, "{gateway_id}"))

        invalid = group.replace("interval_s = 1", "interval_s = -1")
        code, lines = push(tmp_path, invalid, 2)
        assert code == 1 and lines[0].startswith("gw-1: refused: "), lines
        assert lines[1].startswith("stopped at stage 1 (canary): gw-1: refused: ") and lines[2:] == [
            "not pushed: gw-2"
        ]

        broken = installed(
            agent_config(tmp_path, broker, {"ap-1": ap, "ap-9": "127.0.0.1:9"}, "{gateway_id}")
        )
        code, lines = push(tmp_path, broken, 3, "--settle-s", str(2 * ROLLBACK_AFTER_S))
        assert code == 1, lines
        assert lines[0].startswith(
            "gw-1: applied version 3, then online, running config version 0, rolled back: "
        )
        assert lines[2:] == ["not pushed: gw-2"], lines

        code, lines = push(tmp_path, group, 4, "--settle-s", "1")
        assert code == 0 and lines == ["gw-1: applied version 4", "gw-2: applied version 4"], lines

        statuses = statuses_when(broker, lambda got: got["gw-2"].get("config_version") == 4)
        assert statuses["gw-2"]["config_refused"] == {}  # gw-2 never saw versions 2 and 3
        assert statuses["gw-1"]["config_refused"] == {"invalid": 1}
