"""What the bridge's integration tests share: a gateway-like publisher, bridge configs, bridge pages.

The publisher speaks the wire format through the agent's own `encode_batch`, so the bridge is fed
exactly what a gateway sends.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.agent.buffer import Batch
from edge_gateway.agent.uplink import encode_batch
from edge_gateway.core.mqtt import properties
from edge_gateway.core.wire import data_topic
from edge_gateway_dev import servers

START_NS = 1_700_000_000_000_000_000


def lines_of(gateway: str, seq: int, count: int) -> list[str]:
    """`count` unique points of batch `seq` (unique by time), tagged with the gateway like the agent does."""
    base_ns = START_NS + seq * 1_000_000
    return [
        f"ap,device=ap-{i % 5},gateway={gateway} clients={i}i,seq={seq}i {base_ns + i}" for i in range(count)
    ]


async def publish(
    mqtt: servers.Server,
    gateways: list[str],
    messages: int,
    lines_per_message: int,
    rate_msgs_per_s: float = 0.0,
    use_gzip: bool = False,
) -> int:
    """Publish `messages` batches per gateway at QoS 1 (awaiting each PUBACK); return the points sent."""
    points = 0
    async with aiomqtt.Client(mqtt.host, mqtt.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for seq in range(1, messages + 1):
            for gateway in gateways:
                batch = Batch(seq, (), tuple(lines_of(gateway, seq, lines_per_message)))
                payload, props = encode_batch(batch, use_gzip)
                await client.publish(data_topic(gateway), payload, qos=1, properties=props)
                points += lines_per_message
            if rate_msgs_per_s:
                await asyncio.sleep(len(gateways) / rate_msgs_per_s)
    return points


@dataclass(frozen=True)
class Raw:
    """One message exactly as a (possibly hostile) gateway might send it."""

    topic: str
    payload: bytes
    user: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain; charset=utf-8"
    retain: bool = False
    qos: int = 1


async def publish_raw(mqtt: servers.Server, messages: list[Raw]) -> None:
    """Publish the messages in order over one connection (QoS 1 ones awaiting their PUBACK)."""
    async with aiomqtt.Client(mqtt.host, mqtt.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for message in messages:
            props = properties(PacketTypes.PUBLISH)
            props.ContentType = message.content_type
            if message.user:
                props.UserProperty = list(message.user)
            await client.publish(
                message.topic, message.payload, qos=message.qos, retain=message.retain, properties=props
            )


def batch(seq: int | str, lines: list[str], n: int | None = None) -> tuple[tuple[str, str], ...]:
    """User properties of a batch of `lines`."""
    return (("seq", str(seq)), ("n", str(len(lines) if n is None else n)), ("v", "1"))


class Publisher(threading.Thread):
    """`publish` in the background, so a test can stop servers and kill bridges meanwhile ("under load")."""

    def __init__(
        self, mqtt: servers.Server, gateways: list[str], messages: int, lines: int, rate: float
    ) -> None:
        super().__init__(daemon=True)
        self.args = (mqtt, gateways, messages, lines, rate)
        self.points = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.points = asyncio.run(publish(*self.args))
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self, timeout_s: float = 60.0) -> int:
        self.join(timeout_s)
        if self.is_alive() or self.error is not None:
            raise AssertionError(f"publisher did not finish: {self.error!r}")
        return self.points


def bridge_config(
    path: Path,
    mqtt: servers.Server,
    influxdb_toml: str,
    client_id: str = "bridge-1",
    port: int = 0,
    extra_bridge_toml: str = "",
    flush_interval_s: float = 0.2,
) -> int:
    """Write a bridge config for tests (fast retries and flushes); return its pages' port."""
    port = port or servers.free_port()
    path.write_text(
        f'log_level = "info"\n[mqtt]\nurl = "{mqtt.url}"\nclient_id = "{client_id}"\nreconnect_max_s = 1\n'
        f"[influxdb]\n{influxdb_toml}\n"
        f'[bridge]\ndead_letter_path = "{path.parent}/dead-{client_id}.jsonl"\nlisten_port = {port}\n'
        f"flush_interval_s = {flush_interval_s}\nretry_max_s = 1\nhealth_interval_s = 1\n{extra_bridge_toml}"
    )
    return port


def influx_v1(influx: servers.Server, database: str = "edge") -> str:
    return f'url = "{influx.url}"\napi = "v1"\ndatabase = "{database}"\ntimeout_s = 2'


def page(port: int, path: str) -> tuple[int, str]:
    """Status and body of one of a bridge's pages; (0, "") while it is not listening."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()
    except OSError:
        return 0, ""


def metrics(port: int) -> dict[str, float]:
    """A bridge's /metrics as {'name{labels}': value}; empty while it is not listening."""
    status, text = page(port, "/metrics")
    if status != 200:
        return {}
    return {
        name: float(value)
        for name, _, value in (line.rpartition(" ") for line in text.splitlines() if not line.startswith("#"))
    }


def healthy(port: int) -> bool:
    return page(port, "/healthz")[0] == 200


def wait_healthy(ports: list[int], timeout_s: float = 30.0) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not all(healthy(port) for port in ports):
        if time.monotonic() > deadline_s:
            raise AssertionError(f"bridges on {ports} not healthy after {timeout_s} s")
        time.sleep(0.1)
