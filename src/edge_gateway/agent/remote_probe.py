"""The gateway's end of `edge fleet probe`: one look at one of its configured devices, asked by the NOC.

The request comes on `edge/{id}/probe/request` (MQTT 5, with a response topic and correlation data)
and is signed like a remote config with the NOC's key: only the NOC may make a gateway poll something,
and only a device the gateway already polls, so a probe can never reach a host the config does not
name. Bounded: requests of at most `MAX_REQUEST_BYTES`, an expiry time in the signed body (no replay
after it, none more than `MAX_AHEAD_S` ahead), one probe at a time (the next is refused as busy, not
queued), and `DEADLINE_S` for the poll. docs/fleet.md has the format.

Each kind is probed as its local `edge probe` command would, without getting in the collector's way:
an SNMP device or a camera is polled once more now (both take several clients); a serial sensor is
not, because its bus belongs to its collector (a second user of an RS-485 line garbles both), so the
answer is the collector's own next cycle of that sensor, waited for up to `SERIAL_WAIT_S`, or else its
last one, with its age.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from edge_gateway.agent.remote_config import verified
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core import schema
from edge_gateway.core.lineproto import encode_many
from edge_gateway.core.model import Reading

if TYPE_CHECKING:
    from pathlib import Path

    from edge_gateway.agent.agent import Agent
    from edge_gateway.agent.config import AgentConfig

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 4096
MAX_AHEAD_S = 300.0
DEADLINE_S = 30.0
SERIAL_WAIT_S = 15.0  # a sensor polled every 10 s has a fresh cycle within this
KIND = "probe"


class ProbeDesk:
    """Answers probe requests for one agent; `answer` never raises, it says what went wrong."""

    def __init__(self, agent: Agent, key_file: Path) -> None:
        self.agent, self.key_file = agent, key_file
        self.busy = False
        self.refused: dict[str, int] = {}

    def _refuse(self, reason: str, detail: str) -> dict[str, Any]:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        if self.refused[reason] == 1:  # once per reason: a flood of bad requests does not flood the log
            log.warning("probe request refused (%s; further ones counted, not logged): %s", reason, detail)
        return {"ok": False, "refused": reason, "error": detail}

    async def _check(self, payload: bytes) -> tuple[str | None, dict[str, Any] | None]:
        """The device to probe, or the refusal."""
        body, refused = await asyncio.to_thread(verified, payload, self.key_file)
        now_s = time.time()
        if refused is not None or body is None:
            reason = refused.reason if refused is not None else "malformed"
            return None, self._refuse(reason, "; ".join(refused.problems) if refused else reason)
        if body.get("kind") != KIND or body.get("target") != self.agent.config.gateway.id:
            return None, self._refuse("target", "not a probe request for this gateway")
        expires_s = body.get("expires_s")
        if not isinstance(expires_s, int | float) or not now_s <= expires_s <= now_s + MAX_AHEAD_S:
            return None, self._refuse("expired", "the request has expired or expires too far ahead")
        device = str(body.get("device", ""))
        if device not in device_kinds(self.agent.config):
            return None, self._refuse("unknown device", f"no device named {device!r} in this config")
        return device, None

    async def answer(self, payload: bytes) -> bytes:
        """One probe at a time: a request that comes while another is checked or probed is refused
        busy, before its signature is checked (a child process: verify_child.py)."""
        if len(payload) > MAX_REQUEST_BYTES:
            return json.dumps(self._refuse("oversized", f"request of {len(payload)} bytes")).encode()
        if self.busy:
            return json.dumps(self._refuse("busy", "a probe is already running on this gateway")).encode()
        self.busy = True
        try:
            device, refusal = await self._check(payload)
            if refusal is not None or device is None:
                return json.dumps(refusal).encode()
            async with asyncio.timeout(DEADLINE_S):
                answer = await self._probe(device)
        except TimeoutError:
            answer = {"ok": False, "device": device, "error": f"no answer within {DEADLINE_S:g} s"}
        finally:
            self.busy = False
        return json.dumps(answer).encode()

    async def _probe(self, device: str) -> dict[str, Any]:
        kind = device_kinds(self.agent.config)[device]
        if kind == "camera":
            return await self._camera(device)
        if kind == "serial":
            return await self._serial(device)
        from edge_gateway.agent.collectors.snmp.probe import probe

        section = self.agent.config.snmp
        one = replace(section, devices=[d for d in section.devices if d.name == device])
        readings, up, diagnosis = await probe(one, 0, self.agent.profiles)
        return _answer(device, readings, up, diagnosis)

    async def _camera(self, device: str) -> dict[str, Any]:
        """One check of the camera, as `edge probe camera` makes it; the collector's own goes on."""
        from edge_gateway.agent.collectors.camera.collector import CameraCollector

        config = self.agent.config
        camera = next(c for c in config.camera.devices if c.name == device)
        acc = Accumulator(SourceHealth())
        await CameraCollector(camera, config.gateway.site, 0).collect(acc)
        status = next(r for r in acc.readings if r.measurement == schema.DEVICE_STATUS)
        return _answer(
            device, acc.readings, status.fields.get("up") is True, str(status.fields.get("error", ""))
        )

    async def _serial(self, device: str) -> dict[str, Any]:
        """The collector's next cycle of the sensor (or its last, with its age): the bus stays its own."""
        board = self.agent.board
        asked_ns = time.time_ns()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SERIAL_WAIT_S):
                while _cycle_ns(board.serial_cycles.get(device)) < asked_ns:
                    board.polled.clear()
                    await board.polled.wait()
        cycle = board.serial_cycles.get(device)
        if not cycle:
            return {
                "ok": False,
                "device": device,
                "error": f"not polled by its collector within {SERIAL_WAIT_S:g} s",
            }
        status = cycle[-1]
        bus = board.buses.get(str(status.tags.get("bus", "")))
        readings = list(cycle)
        if bus is not None and bus.time_ns:
            tags = {"bus": str(status.tags["bus"]), "site": bus.site}
            readings.append(Reading("serial_bus", tags, dict(bus.fields), bus.time_ns))
        age_s = max(asked_ns - status.time_ns, 0) / 1e9
        said = (
            "the collector's next cycle"
            if status.time_ns >= asked_ns
            else f"the collector's last cycle, {age_s:.1f} s before the request"
        )
        error = str(status.fields.get("error", ""))
        return _answer(
            device, readings, status.fields.get("up") is True, f"{said}{': ' + error if error else ''}"
        )


def device_kinds(config: AgentConfig) -> dict[str, str]:
    """Every device a probe may name, by kind: only these, so a probe never reaches anything else."""
    found = {device.name: "snmp" for device in config.snmp.devices}
    found |= {camera.name: "camera" for camera in config.camera.devices}
    return found | {sensor.name: "serial" for bus in config.serial.buses for sensor in bus.sensors}


def _cycle_ns(cycle: list[Reading] | None) -> int:
    return cycle[-1].time_ns if cycle else 0


def _answer(device: str, readings: list[Reading], up: bool, diagnosis: str) -> dict[str, Any]:
    return {"ok": True, "device": device, "up": up, "diagnosis": diagnosis, "readings": encode_many(readings)}
