"""The bridge as a process, fed like gateways feed it, storing into real InfluxDB 1.x and VictoriaMetrics."""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import socket
import urllib.parse
import urllib.request
from pathlib import Path

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.bridge.deadletter_tools import body_of
from edge_gateway.core.mqtt import properties
from edge_gateway_dev import servers
from tests.bridge.feed import bridge_config, influx_v1, metrics, publish, wait_healthy
from tests.integration.helpers import influx_query, wait_for

pytestmark = pytest.mark.integration


def count(influx: servers.Server, query: str = "SELECT count(clients) FROM ap") -> int:
    series = influx_query(influx.url, "edge", query)
    return int(series[0]["values"][0][1]) if series else 0


def test_v1_stores_every_point_with_the_topic_gateway_and_accounts_for_it(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server
) -> None:
    conf = tmp_path / "bridge.toml"
    port = bridge_config(conf, mosquitto, influx_v1(influxdb))
    log = tmp_path / "bridge.log"
    with servers.edge_process(["bridge", "-c", str(conf)], log):
        wait_healthy([port])
        sent = asyncio.run(publish(mosquitto, ["gw-a", "gw-b"], messages=10, lines_per_message=150))
        sent += asyncio.run(publish(mosquitto, ["gw-c"], messages=3, lines_per_message=10, use_gzip=True))
        wait_for(lambda: count(influxdb) == sent, 30, f"{sent} points in InfluxDB", (log,))
        # The points are in InfluxDB before the write returns to the bridge, which only then counts them.
        seen = wait_for(
            lambda: (
                found if (found := metrics(port)).get("edge_bridge_stored_points_total") == sent else None
            ),
            10,
            f"stored_points_total == {sent} on /metrics",
            (log,),
        )
        ingest_query = "SELECT last(points), last(gaps) FROM ingest GROUP BY gateway"
        ingest = wait_for(  # written every second: the first write may predate gw-c's batches
            lambda: series if len(series := influx_query(influxdb.url, "edge", ingest_query)) == 3 else None,
            10,
            "the ingest measurement of the three gateways",
        )
    by_gateway = influx_query(influxdb.url, "edge", "SELECT count(clients) FROM ap GROUP BY gateway")
    assert {s["tags"]["gateway"]: s["values"][0][1] for s in by_gateway} == {
        "gw-a": 1500,
        "gw-b": 1500,
        "gw-c": 30,
    }
    assert seen['edge_bridge_points_total{gateway="gw-a"}'] == 1500
    assert seen['edge_bridge_batches_total{gateway="gw-a"}'] == 10
    assert seen['edge_bridge_seq_gaps{gateway="gw-a"}'] == 0
    assert seen['edge_bridge_lag_seconds{gateway="gw-a"}'] > 0  # the test's points are from 2023
    assert seen["edge_bridge_stored_points_total"] == sent
    assert seen['edge_bridge_points_total{gateway="gw-c"}'] == 30
    assert seen["edge_bridge_write_requests_total"] < 23  # batched across messages
    assert {s["tags"]["gateway"] for s in ingest} == {"gw-a", "gw-b", "gw-c"}
    assert not (tmp_path / "dead-bridge-1.jsonl").exists()


async def publish_raw(
    mqtt: servers.Server, topic: str, payload: bytes, user: dict[str, str], content_type: str
) -> None:
    props = properties(PacketTypes.PUBLISH)
    props.ContentType = content_type
    props.UserProperty = list(user.items())
    async with aiomqtt.Client(mqtt.host, mqtt.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.publish(topic, payload, qos=1, properties=props)


def test_malformed_input_is_counted_dead_lettered_logged_once_and_the_bridge_goes_on(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server
) -> None:
    conf = tmp_path / "bridge.toml"
    port = bridge_config(conf, mosquitto, influx_v1(influxdb))
    log = tmp_path / "bridge.log"
    text = "text/plain; charset=utf-8"
    ok = {"seq": "1", "n": "1", "v": "1"}
    bad_inputs = [
        ("edge/gw-x/data", b"ap,device=d clients=1i 1\n", {"n": "1", "v": "1"}, text),  # no seq
        ("edge/gw-x/data", b"ap,device=d clients=1i 1\n", {"seq": "2", "n": "1"}, text),  # no version
        ("edge/gw-x/data", b"ap,device=d clients=\xff 1\n", {**ok, "seq": "3"}, text),  # not UTF-8
        ("edge/gw-x/data", b"not gzip at all", {**ok, "seq": "4"}, "application/gzip"),
        ("edge/gw-x/data", gzip.compress(b"a x=1i 1\n"), {**ok, "seq": "5", "n": "4"}, "application/gzip"),
        ("edge/not valid!/data", b"ap clients=1i 1\n", ok, text),
        ("edge/gw-x/data", b"ap,gateway=gw-other clients=7i 6\n", {**ok, "seq": "6"}, text),  # impostor
        (
            "edge/gw-x/data",
            b"ap clients=oops 7\nap,device=d clients=8i 8\n",
            {**ok, "seq": "7", "n": "2"},
            text,
        ),
        ("edge/gw-x/data", b"ap clients=oops 9\n", {**ok, "seq": "8"}, text),
    ]
    with servers.edge_process(["bridge", "-c", str(conf)], log):
        wait_healthy([port])
        for topic, payload, user, content_type in bad_inputs:
            asyncio.run(publish_raw(mosquitto, topic, payload, user, content_type))
        sent = asyncio.run(publish(mosquitto, ["gw-y"], messages=5, lines_per_message=20))
        wait_for(lambda: count(influxdb) == sent + 1, 30, "the good points after the bad input", (log,))
        seen = wait_for(
            lambda: metrics(port) if metrics(port).get('edge_bridge_points_total{gateway="gw-x"}') else None,
            10,
            "accounting",
        )
    assert seen['edge_bridge_malformed_messages_total{gateway="gw-x"}'] == 5
    assert seen["edge_bridge_unattributed_messages_total"] == 1
    assert seen['edge_bridge_dead_letters_total{gateway="gw-x"}'] == 3  # impostor line, two "oops"
    assert seen['edge_bridge_points_total{gateway="gw-x"}'] == 1  # device=d clients=8i
    assert seen['edge_bridge_dead_letter_records_total{gateway="gw-x",reason="malformed"}'] == 5
    assert seen['edge_bridge_dead_letter_records_total{gateway="gw-x",reason="bad_line"}'] == 3
    records = [json.loads(line) for line in (tmp_path / "dead-bridge-1.jsonl").read_text().splitlines()]
    assert len(records) == 9  # one per message: 6 unusable, 3 with bad lines
    details = " | ".join(record["detail"] for record in records)
    for expected in ("seq is missing", "version", "UTF-8", "gzip", "n=4", "topic", "gw-other", "bad field"):
        assert expected in details
    assert count(influxdb, "SELECT count(clients) FROM ap WHERE gateway = 'gw-other'") == 0
    logged = log.read_text()
    assert logged.count("unusable message from gw-x") == 1
    assert logged.count("bad line from gw-x") == 1


def stored_batches(port: int, gateway: str, expected: int) -> bool:
    return metrics(port).get(f'edge_bridge_batches_total{{gateway="{gateway}"}}') == expected


def test_a_field_type_conflict_dead_letters_only_the_conflicting_lines(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server
) -> None:
    conf = tmp_path / "bridge.toml"
    port = bridge_config(conf, mosquitto, influx_v1(influxdb) + "\ngzip = true")
    log = tmp_path / "bridge.log"
    first = [f"ap,device=d{i} clients={i}i {1_700_000_000_000_000_000 + i}" for i in range(50)]
    # InfluxDB 1.x knows `clients` as an integer now; 3 lines of the next batch say it is a string.
    second = [
        f'ap,device=e{i} clients="{i}" {1_700_000_001_000_000_000 + i}'
        if i in (5, 6, 40)
        else f"ap,device=e{i} clients={i}i {1_700_000_001_000_000_000 + i}"
        for i in range(60)
    ]
    with servers.edge_process(["bridge", "-c", str(conf)], log):
        wait_healthy([port])
        for seq, lines in ((1, first), (2, second)):
            payload = ("\n".join(lines) + "\n").encode()
            user = {"seq": str(seq), "n": str(len(lines)), "v": "1"}
            asyncio.run(publish_raw(mosquitto, "edge/gw-t/data", payload, user, "text/plain"))
            batches_stored = functools.partial(stored_batches, port, "gw-t", seq)
            wait_for(batches_stored, 30, f"batch {seq} stored", (log,))
    assert count(influxdb) == 50 + 57
    (record,) = [json.loads(line) for line in (tmp_path / "dead-bridge-1.jsonl").read_text().splitlines()]
    stamped = [second[i].replace(" clients", ",gateway=gw-t clients", 1) for i in (5, 6, 40)]
    assert sorted(body_of(record).decode().splitlines()) == sorted(stamped)
    assert (record["topic"], record["reason"], record["lines"]) == ("edge/gw-t/data", "refused", 3)
    assert "field type conflict" in record["detail"]


def test_v2_api_into_victoriametrics(tmp_path: Path, mosquitto: servers.Server) -> None:
    with servers.victoriametrics(tmp_path / "vm") as vm:
        conf = tmp_path / "bridge.toml"
        influx = (
            f'url = "{vm.url}"\napi = "v2"\norg = "cirebon"\nbucket = "edge"\ntoken = "t0ken"\ngzip = true'
        )
        port = bridge_config(conf, mosquitto, influx)
        log = tmp_path / "bridge.log"
        with servers.edge_process(["bridge", "-c", str(conf)], log):
            wait_healthy([port])
            sent = asyncio.run(publish(mosquitto, ["gw-v1", "gw-v2"], messages=4, lines_per_message=50))

            def samples() -> dict[str, int]:
                # New samples become searchable after VictoriaMetrics flushes its in-memory buffers.
                urllib.request.urlopen(f"{vm.url}/internal/force_flush", timeout=5).close()
                params = urllib.parse.urlencode({"match[]": "ap_clients"})
                with urllib.request.urlopen(f"{vm.url}/api/v1/export?{params}", timeout=5) as response:
                    rows = [json.loads(line) for line in response.read().decode().splitlines() if line]
                by_gateway: dict[str, int] = {}
                for row in rows:
                    gateway = row["metric"]["gateway"]
                    by_gateway[gateway] = by_gateway.get(gateway, 0) + len(row["values"])
                return by_gateway if sum(by_gateway.values()) == sent else {}

            stored = wait_for(samples, 30, f"{sent} samples in VictoriaMetrics", (log,))
    assert stored == {"gw-v1": 200, "gw-v2": 200}


def test_a_taken_pages_port_costs_the_pages_not_the_data(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server
) -> None:
    conf = tmp_path / "bridge.toml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bridge_config(conf, mosquitto, influx_v1(influxdb), port=taken.getsockname()[1])
        log = tmp_path / "bridge.log"
        with servers.edge_process(["bridge", "-c", str(conf)], log):
            wait_for(lambda: "bridge subscribed" in log.read_text(), 30, "the bridge to subscribe", (log,))
            sent = asyncio.run(publish(mosquitto, ["gw-p"], messages=2, lines_per_message=10))
            wait_for(lambda: count(influxdb) == sent, 30, f"{sent} points", (log,))
    assert "no /metrics and /healthz: cannot listen on" in log.read_text()
