"""The wire-level load generator of benchmarks/fleet_capacity.py: simulated gateways, each one MQTT 5
connection (client id = gateway id, a Last Will, a retained status) replaying the poll cycle a real agent
sent (benchmarks/fleet_record.py) under its own id, at QoS 1 with every PUBACK checked for 0x00 as the
uplink does; and the same cycle as plain lines, for the bulk loads before a step and of the peer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from benchmarks.fleet_record import GATEWAY, TIME, Template
from edge_gateway.agent.buffer import Batch
from edge_gateway.agent.uplink import encode_batch
from edge_gateway.core import wire
from edge_gateway.core.mqtt import Client
from edge_gateway_dev import servers

STATUS_INTERVAL_S = 60.0  # the agent's retained status refresh (agent.inventory.INVENTORY_INTERVAL_S)
PREFIX = "gw-"  # the simulated gateways: gw-0000, gw-0001, ... the same names in every step


def names(count: int) -> list[str]:
    return [f"{PREFIX}{index:04d}" for index in range(count)]


@dataclass
class Sent:
    """What the simulated gateways handed to the broker (each PUBACK 0x00) and how late they were."""

    readings: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    late_s: float = 0.0  # the latest a batch left after its time: the generator falling behind
    refused: int = 0
    seqs: Counter[str] = field(default_factory=Counter)  # each gateway's `seq`, on across steps


def _status(template: Template, gateway: str, state: str) -> bytes:
    body = template.status | {"gateway": gateway, "time_s": round(time.time(), 3)}
    return json.dumps(body if state == wire.ONLINE else {"gateway": gateway, "state": state}).encode()


async def _publish(client: Client, topic: str, payload: bytes, sent: Sent, **options: Any) -> bool:
    """Delivered: PUBACK 0x00. A retained status nobody reads yet (0x10) is fine, as for the agent."""
    reason = await client.publish_checked(topic, payload, qos=1, **options)
    sent.refused += reason != 0 and not options.get("retain")
    return reason == 0


async def gateway(
    broker: servers.Server, name: str, template: Template, phase_s: float, until_s: float, sent: Sent
) -> None:
    """One simulated gateway until `until_s` (loop time): replays the recorded cycle every poll interval,
    the first one started `phase_s` into the past so that the fleet's load is even from the first second;
    its retained status at the start, every STATUS_INTERVAL_S, and `stopped` at the end, like the agent."""
    texts = [(offset_s, text.replace(GATEWAY, name), counts) for offset_s, text, counts in template.texts]
    will = aiomqtt.Will(wire.status_topic(name), _status(template, name, wire.OFFLINE), qos=1, retain=True)
    loop = asyncio.get_running_loop()
    status_topic, data_topic = wire.status_topic(name), wire.data_topic(name)
    v5 = aiomqtt.ProtocolVersion.V5
    async with Client(broker.host, broker.port, identifier=name, will=will, protocol=v5) as client:
        await _publish(client, status_topic, _status(template, name, wire.ONLINE), sent, retain=True)
        begin_s = loop.time()
        start_s, next_status_s = begin_s + phase_s - template.poll_interval_s, begin_s + STATUS_INTERVAL_S
        for cycle in itertools.count():
            for offset_s, text, counts in texts:
                at_s = start_s + cycle * template.poll_interval_s + offset_s
                if at_s < begin_s:
                    continue  # the part of the first cycle before this gateway began
                if at_s >= until_s:
                    await _publish(
                        client, status_topic, _status(template, name, wire.STOPPED), sent, retain=True
                    )
                    return
                await asyncio.sleep(at_s - loop.time())
                sent.late_s = max(sent.late_s, loop.time() - at_s)
                sent.seqs[name] += 1
                lines = tuple(text.replace(TIME, str(time.time_ns())).split("\n"))
                payload, props = encode_batch(Batch(sent.seqs[name], (), lines), use_gzip=True)
                if await _publish(client, data_topic, payload, sent, properties=props):
                    sent.readings.update(counts)
                    sent.batches += 1
                if loop.time() >= next_status_s:
                    await _publish(
                        client, status_topic, _status(template, name, wire.ONLINE), sent, retain=True
                    )
                    next_status_s += STATUS_INTERVAL_S


def fleet_lines(template: Template, gateways: list[str], times_ns: list[int]) -> list[str]:
    """The lines these gateways send in one cycle at each of these times."""
    texts = template.texts
    lines = [
        text.replace(GATEWAY, name).replace(TIME, str(t))
        for t in times_ns
        for name in gateways
        for _, text, _ in texts
    ]
    return "\n".join(lines).split("\n")
