"""The gateway's checks of a probe request, each refusal by reason, before anything is polled."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from edge_gateway.agent.remote_probe import MAX_AHEAD_S, MAX_REQUEST_BYTES, ProbeDesk
from edge_gateway.agent.status import Board
from edge_gateway.bridge.fleet_probe import not_listening, sign_probe
from edge_gateway.core.model import Reading

pytestmark = pytest.mark.fleet
KEY = Ed25519PrivateKey.generate()
PUBLIC_PEM = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def desk(folder: Path) -> ProbeDesk:
    """A desk for gw-1 that trusts KEY (its public half in a file, read by the verifying child)."""
    key_file = folder / "noc.pub"
    key_file.write_bytes(PUBLIC_PEM)
    sensor = SimpleNamespace(name="int01-weather")
    config = SimpleNamespace(
        gateway=SimpleNamespace(id="gw-1"),
        snmp=SimpleNamespace(devices=[SimpleNamespace(name="ap-1")]),
        camera=SimpleNamespace(devices=[]),
        serial=SimpleNamespace(buses=[SimpleNamespace(name="int01-rs485", sensors=[sensor])]),
    )
    agent: Any = SimpleNamespace(config=config, board=Board())
    return ProbeDesk(agent, key_file)


def answer(probes: ProbeDesk, payload: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(asyncio.run(probes.answer(payload)))
    return result


def test_each_bad_request_is_refused_by_reason_and_counted(tmp_path: Path) -> None:
    now_s, probes = time.time(), desk(tmp_path)
    bad = {
        "oversized": sign_probe(KEY, "gw-1", "ap-1", now_s + 60) + b" " * MAX_REQUEST_BYTES,
        "malformed": sign_probe(KEY, "gw-1", "ap-1", now_s + 60)[:50],
        "signature": sign_probe(Ed25519PrivateKey.generate(), "gw-1", "ap-1", now_s + 60),
        "target": sign_probe(KEY, "gw-2", "ap-1", now_s + 60),
        "expired": sign_probe(KEY, "gw-1", "ap-1", now_s - 1),
        "unknown device": sign_probe(KEY, "gw-1", "10.0.0.1", now_s + 60),
    }
    for reason, payload in bad.items():
        said = answer(probes, payload)
        assert said["ok"] is False and said["refused"] == reason, (reason, said)
    too_far = answer(probes, sign_probe(KEY, "gw-1", "ap-1", now_s + MAX_AHEAD_S + 60))
    assert too_far["refused"] == "expired"
    assert probes.refused == dict.fromkeys(bad, 1) | {"expired": 2}


def test_busy_while_a_probe_runs(tmp_path: Path) -> None:
    probes = desk(tmp_path)
    probes.busy = True
    said = answer(probes, sign_probe(KEY, "gw-1", "ap-1", time.time() + 60))
    assert said == {"ok": False, "refused": "busy", "error": "a probe is already running on this gateway"}


def serial_cycle(time_ns: int, up: bool) -> list[Reading]:
    """One cycle of the bus owner as the sink hands it to the board: the sensor, its status, the bus."""
    sensor = {"site": "s", "sensor": "int01-weather", "bus": "int01-rs485"}
    status = {"device": "int01-weather", "site": "s", "kind": "modbus-rtu", "bus": "int01-rs485"}
    return [
        Reading("weather", sensor, {"temp_c": 21.5}, time_ns),
        Reading("device_status", status, {"up": up, "error": "" if up else "NoAnswer"}, time_ns),
        Reading("serial_bus", {"site": "s", "bus": "int01-rs485"}, {"util_pct": 3.0}, time_ns),
    ]


async def test_a_serial_sensor_is_answered_from_its_collectors_next_cycle_never_polled_again(
    tmp_path: Path,
) -> None:
    probes = desk(tmp_path)
    board = probes.agent.board
    board.record(serial_cycle(time.time_ns() - 5_000_000_000, up=False))
    asking = asyncio.create_task(probes.answer(sign_probe(KEY, "gw-1", "int01-weather", time.time() + 60)))
    while not asking.done():  # the collector cycles on; the desk takes the first after the request
        board.record(serial_cycle(time.time_ns(), up=True))
        await asyncio.sleep(0.05)  # the collector's interval, shortened
    said = json.loads(await asking)
    assert said["ok"] is True and said["up"] is True, said
    assert said["diagnosis"] == "the collector's next cycle"
    assert [line.split(",")[0] for line in said["readings"]] == ["weather", "device_status", "serial_bus"]


async def test_a_serial_sensor_not_polled_again_in_time_is_answered_with_its_last_cycle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("edge_gateway.agent.remote_probe.SERIAL_WAIT_S", 0.01)
    probes = desk(tmp_path)
    probes.agent.board.record(serial_cycle(time.time_ns() - 5_000_000_000, up=False))
    said = json.loads(await probes.answer(sign_probe(KEY, "gw-1", "int01-weather", time.time() + 60)))
    assert said["ok"] is True and said["up"] is False
    assert said["diagnosis"].startswith("the collector's last cycle, ")
    assert said["diagnosis"].endswith(" s before the request: NoAnswer")


def test_the_noc_says_when_a_gateway_takes_no_probes() -> None:
    assert not_listening("gw-1", None) is None  # never reported: ask anyway
    assert not_listening("gw-1", {"state": "offline"}) is None
    assert not_listening("gw-1", {"state": "online", "config_version": 0, "config_refused": {}}) is None
    said = not_listening("gw-1", {"state": "online", "config_version": 0})
    assert said is not None and said.startswith("gw-1 takes no remote probes: [remote_config] is not enabled")
