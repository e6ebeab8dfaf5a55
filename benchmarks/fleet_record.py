"""What one real gateway sends, recorded for benchmarks/fleet_capacity.py to replay from many.

`edge sim fleet` (50 APs and 8 intersections by default) polled by a real `edge agent` into a local
Mosquitto; a subscriber skips the agent's first cycles (rates need two polls) and keeps one whole poll
cycle of its data messages (their lines, their split into batches, their offsets within the cycle)
and its retained status. The agent polls every CAPTURE_INTERVAL_S so that this takes seconds; a device
is polled once per cycle whatever the interval, and its start within the cycle is staggered over at
most 5 s (agent.scheduler) either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gzip
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt

from edge_gateway.core import wire
from edge_gateway.core.lineproto import encode_many, parse
from edge_gateway.core.model import Reading
from edge_gateway_dev import servers

POLL_INTERVAL_S = 30.0  # a real gateway's poll interval (the default), the replay's cycle
CAPTURE_INTERVAL_S = 6.0  # the recorded agent polls this often, so one cycle is recorded quickly
CAPTURE_CYCLES_BEFORE = 2  # the first cycle has no rates yet (two polls make a rate)
GATEWAY, TIME = "GATEWAYID", "TIMENS"  # placeholders in a gateway's recorded batches


@dataclass(frozen=True)
class Template:
    """One poll cycle of a real gateway: its batches (offset in the cycle, readings) and its status."""

    batches: tuple[tuple[float, tuple[Reading, ...]], ...]
    status: dict[str, Any]
    devices: int
    poll_interval_s: float = POLL_INTERVAL_S  # how often it is replayed

    @property
    def readings_per_cycle(self) -> int:
        return sum(len(readings) for _, readings in self.batches)

    def counted_field(self) -> dict[str, str]:
        """Per measurement, a field every one of its readings carries: InfluxDB counts points by it."""
        keys: dict[str, set[str]] = {}
        for _, readings in self.batches:
            for reading in readings:
                keys.setdefault(reading.measurement, set(reading.fields)).intersection_update(reading.fields)
        return {measurement: sorted(fields)[0] for measurement, fields in keys.items()}

    @functools.cached_property
    def texts(self) -> list[tuple[float, str, Counter[str]]]:
        """Each batch as lines of the agent's encoder with GATEWAY and TIME left to fill in at sending
        (a gateway id needs no escaping), and its readings by measurement. Rendered once: the encoder
        costs about 40 µs a line, more than all the rest of a simulated gateway."""
        out = []
        for offset_s, readings in self.batches:
            stamped = (
                dataclasses.replace(r, tags={**r.tags, "gateway": GATEWAY}, time_ns=0) for r in readings
            )
            lines = [line.removesuffix(" 0") + " " + TIME for line in encode_many(stamped)]
            out.append((offset_s, "\n".join(lines), Counter(r.measurement for r in readings)))
        return out


def _lines_of(message: aiomqtt.Message) -> list[str]:
    payload = message.payload if isinstance(message.payload, bytes) else b""
    if getattr(message.properties, "ContentType", "") == wire.CONTENT_TYPE_GZIP:
        payload = gzip.decompress(payload)
    return payload.decode().splitlines()


async def _record(broker: servers.Server, agent_config: Path, log: Path, interval_s: float) -> Template:
    """Subscribe, start the agent, skip its first cycles, keep one whole cycle of its batches."""
    async with aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe(wire.ALL_DATA, qos=1)
        await client.subscribe(wire.ALL_STATUS, qos=1)
        batches: list[tuple[float, tuple[Reading, ...]]] = []
        status: dict[str, Any] = {}
        with servers.edge_process(["agent", "-c", str(agent_config)], log):
            skip_s = CAPTURE_CYCLES_BEFORE * interval_s
            first_s: float | None = None
            async with asyncio.timeout(60 + skip_s):
                async for message in client.messages:
                    now_s = time.monotonic()
                    if wire.STATUS_TOPIC.match(str(message.topic)):
                        status = json.loads(message.payload if isinstance(message.payload, bytes) else b"{}")
                        continue
                    first_s = now_s if first_s is None else first_s
                    offset_s = now_s - first_s - skip_s
                    if offset_s >= interval_s:
                        break
                    if offset_s >= 0:
                        batches.append((offset_s, tuple(parse(line) for line in _lines_of(message))))
    if not batches or status.get("state") != wire.ONLINE:
        raise RuntimeError(f"no cycle recorded from the agent; see its log {log}")
    devices = {r.tags.get("device") or r.tags.get("sensor") for _, rs in batches for r in rs} - {None}
    return Template(tuple(batches), status, len(devices))


def capture(work: Path, aps: int, intersections: int, interval_s: float) -> Template:
    """What one real gateway sends: `edge sim fleet` polled by a real `edge agent`."""
    with servers.mosquitto(work / "capture-mqtt") as broker:
        config = work / "capture" / "edge.toml"
        config.parent.mkdir(parents=True)
        options = ["--aps", str(aps), "--intersections", str(intersections)]
        options += ["--interval-s", str(interval_s), "--port-dir", str(work / "capture" / "ports")]
        options += ["--broker-url", broker.url]
        with servers.fleet_process(config, options, work / "capture" / "sim.log"):
            with config.open("a") as file:
                file.write("\n[status]\nenabled = false\n")
            return asyncio.run(_record(broker, config, work / "capture" / "agent.log", interval_s))
