"""Fuzzing the real bridge (issue 14): random and mutated messages on every topic a gateway may write
(its data and its retained status; plain and gzip), while one legitimate gateway publishes known
batches. The bridge must stay up, and the legitimate gateway's data must be complete and exact.

`EDGE_FUZZ_MESSAGES` (10 000 by default, to keep the suite fast; the issue's run is 100 000) and
`EDGE_FUZZ_SEED` choose the run; the seed is printed, so a failure can be replayed exactly.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import random
import time
from pathlib import Path

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.bridge.deadletters import rotated
from edge_gateway.core.mqtt import properties
from edge_gateway_dev import servers
from tests.bridge.feed import bridge_config, healthy, influx_v1, lines_of, metrics, wait_healthy
from tests.integration.helpers import influx_query, wait_for

pytestmark = pytest.mark.integration

MESSAGES = int(os.environ.get("EDGE_FUZZ_MESSAGES", "10000"))
SEED = int(os.environ.get("EDGE_FUZZ_SEED", "1414"))
LEGIT_BATCHES, LEGIT_LINES = 40, 25
FUZZ_GATEWAYS = [f"gw-fz{i}" for i in range(5)]
DEAD_LETTER_MAX_BYTES = 4 * 2**20
SPECIAL = [b",", b"=", b" ", b'"', b"\\", b"\n", b"\r", b"\x00", b"\xff", b"i", b"u", b"e", b"-", b"[", b"{"]
PROPERTY_VALUES = ["1", "0", "-1", "", "x", str(2**63), str(10**20), "9" * 30, " 7", "1e3", "٣"]


def valid_lines(rng: random.Random, gateway: str) -> list[str]:
    """Lines like an agent's, with the legitimate gateway's measurement and field names."""
    base_ns = 1_700_000_000_000_000_000 + rng.randrange(10**12)
    return [
        f"ap,device=fz-{rng.randrange(20)},gateway={gateway} clients={rng.randrange(100)}i,"
        f"cpu_pct={rng.random() * 100:.2f},up={rng.choice(['true', 'false'])} {base_ns + i}"
        for i in range(rng.randrange(1, 30))
    ]


def mutate(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randrange(1, 6)):
        kind = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if kind == 0 and data:  # flip a byte
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1:  # insert a character that means something to line protocol
            data[at:at] = rng.choice(SPECIAL) * rng.choice([1, 1, 2, 100])
        elif kind == 2:  # truncate
            del data[at:]
        elif kind == 3 and data:  # duplicate a stretch
            end = min(len(data), at + rng.randrange(1, 200))
            data[at:at] = data[at:end]
        elif kind == 4:  # a hostile token
            data[at:at] = rng.choice(
                [b",gateway=gw-legit", b' gateway="gw-legit"', b",bridge=x", b" time=1i", b"9" * 25,
                 b"1e999", b'clients="s"', b"ingest", b",_f=1", b"\xc3\x28"]
            )  # fmt: skip
        else:  # delete a stretch
            del data[at : at + rng.randrange(1, 50)]
    return bytes(data)


def data_message(rng: random.Random) -> tuple[str, bytes, list[tuple[str, str]], str]:
    gateway = rng.choice(FUZZ_GATEWAYS)
    lines = valid_lines(rng, gateway)
    body = ("\n".join(lines) + "\n").encode()
    user = [("seq", str(rng.randrange(1, 10**6))), ("n", str(len(lines))), ("v", "1")]
    roll = rng.random()
    if roll < 0.1:
        body = rng.randbytes(rng.randrange(0, 3000))
    elif roll < 0.8:
        body = mutate(rng, body)
    if rng.random() < 0.3:  # mutate the user properties
        for _ in range(rng.randrange(1, 3)):
            action = rng.randrange(3)
            if action == 0 and user:
                user.pop(rng.randrange(len(user)))
            else:
                user.append((rng.choice(["seq", "n", "v", "x"]), rng.choice(PROPERTY_VALUES)))
    content_type = "text/plain; charset=utf-8"
    if rng.random() < 0.3:
        content_type = "application/gzip"
        compressed = gzip.compress(body, 1)
        choice = rng.randrange(4)
        body = (
            compressed
            if choice == 0
            else mutate(rng, compressed)
            if choice == 1
            else compressed[: rng.randrange(len(compressed) + 1)]
            if choice == 2
            else body  # says gzip, is not
        )
    topic = f"edge/{gateway}/data" if rng.random() < 0.97 else rng.choice(["edge//data", "edge/bad id/data"])
    return topic, body, user, content_type


def status_message(rng: random.Random) -> bytes:
    roll = rng.randrange(5)
    if roll == 0:  # 100 000 of them crashed the bridge on every start
        return b"[" * rng.choice([1, 999, 1001, 5000, 100_000 if rng.random() < 0.05 else 10])
    if roll == 1:
        return b'{"state": ' * rng.randrange(1, 500)
    if roll == 2:
        return rng.randbytes(rng.randrange(0, 2000))
    return mutate(rng, b'{"gateway": "gw-fz0", "state": "online", "time_s": 1700000000.0}')


async def fuzz(mqtt: servers.Server, rng: random.Random) -> int:
    """Publish MESSAGES fuzz messages (QoS 0, fast) with the legitimate batches (QoS 1) among them."""
    every = MESSAGES // LEGIT_BATCHES
    legit_points = 0
    async with aiomqtt.Client(
        mqtt.host, mqtt.port, protocol=aiomqtt.ProtocolVersion.V5, max_queued_outgoing_messages=0
    ) as client:
        for index in range(MESSAGES):
            props = properties(PacketTypes.PUBLISH)
            if rng.random() < 0.15:
                topic, payload, retain = f"edge/{rng.choice(FUZZ_GATEWAYS)}/status", status_message(rng), True
                props.ContentType = "application/json"
            else:
                topic, payload, user, props.ContentType = data_message(rng)
                retain = False
                if user:
                    props.UserProperty = user
            await client.publish(topic, payload, qos=0, retain=retain, properties=props)
            if index % every == 0 and legit_points < LEGIT_BATCHES * LEGIT_LINES:
                seq = legit_points // LEGIT_LINES + 1
                lines = lines_of("gw-legit", seq, LEGIT_LINES)
                legit = properties(PacketTypes.PUBLISH)
                legit.UserProperty = [("seq", str(seq)), ("n", str(len(lines))), ("v", "1")]
                legit.ContentType = "application/gzip" if seq % 2 else "text/plain; charset=utf-8"
                body = ("\n".join(lines) + "\n").encode()
                payload = gzip.compress(body) if seq % 2 else body
                await client.publish("edge/gw-legit/data", payload, qos=1, properties=legit)
                legit_points += len(lines)
    return legit_points


def legit_stored(influx: servers.Server) -> tuple[int, int]:
    query = "SELECT count(clients), sum(clients) FROM ap WHERE gateway = 'gw-legit'"
    series = influx_query(influx.url, "edge", query)
    return (int(series[0]["values"][0][1]), int(series[0]["values"][0][2])) if series else (0, 0)


@pytest.mark.timeout(600 + MESSAGES // 100)
def test_the_bridge_survives_fuzzing_and_the_legitimate_gateway_loses_nothing(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server
) -> None:
    conf = tmp_path / "bridge.toml"
    extra = f"dead_letter_max_bytes = {DEAD_LETTER_MAX_BYTES}\nmax_message_bytes = 65536\n"
    port = bridge_config(conf, mosquitto, influx_v1(influxdb), extra_bridge_toml=extra)
    log = tmp_path / "bridge.log"
    rng = random.Random(SEED)
    print(f"fuzz: {MESSAGES} messages, seed {SEED}")
    with servers.edge_process(["bridge", "-c", str(conf)], log) as bridge:
        wait_healthy([port])
        started_s = time.monotonic()
        legit = asyncio.run(fuzz(mosquitto, rng))
        published_s = time.monotonic() - started_s
        expected = (legit, LEGIT_BATCHES * sum(range(LEGIT_LINES)))
        wait_for(lambda: legit_stored(influxdb) == expected, 300, f"the legitimate {expected}", (log,))
        stored_s = time.monotonic() - started_s
        seen = metrics(port)
        assert bridge.poll() is None and healthy(port), log.read_text()[-3000:]
    files = [rotated(tmp_path / "dead-bridge-1.jsonl", i) for i in range(4)]
    dead_bytes = sum(path.stat().st_size for path in files if path.exists())
    letters = {k: v for k, v in seen.items() if k.startswith("edge_bridge_dead_letter_records_total")}
    print(
        f"fuzz: published in {published_s:.1f} s, legitimate data complete after {stored_s:.1f} s; "
        f"dead letters {sum(letters.values()):.0f} records, {dead_bytes} bytes on disk; "
        f"write requests {seen['edge_bridge_write_requests_total']:.0f}, "
        f"refused {seen['edge_bridge_refused_requests_total']:.0f}"
    )
    assert seen['edge_bridge_seq_gaps{gateway="gw-legit"}'] == 0
    assert seen['edge_bridge_dead_letters_total{gateway="gw-legit"}'] == 0
    assert dead_bytes <= DEAD_LETTER_MAX_BYTES
    assert sum(letters.values()) > MESSAGES // 10  # the fuzz did reach the checks
