"""The public hotspot feed of a real bridge (Mosquitto, InfluxDB): it says which hotspots work, with
caching headers and a rate limit, and leaks nothing beyond its documented fields."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.core.mqtt import properties
from edge_gateway_dev import servers
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

SECRETS = ("ap-secret-name", "ap-dead", "gw-o", "aa:bb:cc:dd:ee:ff", "10.20.0.11", "c0ffee1234", "NoResponse")


async def publish(broker: servers.Server) -> None:
    now_ns = time.time_ns()
    lines = [
        "device_status,gateway=gw-o,device=ap-secret-name,kind=snmp,site=Kejaksan "
        f'up=true,latency_ms=12.5,error="",lat=-6.7063,lon=108.557 {now_ns}',
        f"ap,gateway=gw-o,device=ap-secret-name,site=Kejaksan clients=37i,hotspot_users=5i {now_ns}",
        "ap_client,gateway=gw-o,device=ap-secret-name,site=Kejaksan,radio=wlan1,client=c0ffee1234 "
        f"signal_dbm=-60 {now_ns}",
        "device_status,gateway=gw-o,device=ap-dead,kind=snmp,site=Kanoman "
        f'up=false,error="NoResponse: 10.20.0.11 aa:bb:cc:dd:ee:ff",lat=-6.71,lon=108.56 {now_ns}',
        f'device_status,gateway=gw-o,device=ap-nowhere,kind=snmp,site=Secret up=true,error="" {now_ns}',
        f"gateway,gateway=gw-o buffer_readings=0i,oldest_s=0 {now_ns}",
    ]
    props = properties(PacketTypes.PUBLISH)
    props.UserProperty = [("seq", "1"), ("n", str(len(lines))), ("v", "1")]
    props.ContentType = "text/plain; charset=utf-8"
    async with aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.publish("edge/gw-o/data", ("\n".join(lines) + "\n").encode(), qos=1, properties=props)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_feed_says_what_works_and_nothing_more(tmp_path: Path, influxdb: servers.Server) -> None:
    subscriptions = tmp_path / "subscriptions.log"
    extra = f"log_dest file {subscriptions}\nlog_type subscribe\n"
    with servers.mosquitto(tmp_path / "mosquitto", extra) as mosquitto:
        port = servers.free_port()
        conf = tmp_path / "bridge.toml"
        conf.write_text(
            f'[mqtt]\nurl = "{mosquitto.url}"\nclient_id = "b-open"\n'
            f'[influxdb]\nurl = "{influxdb.url}"\ndatabase = "edge"\n'
            f'[bridge]\ndead_letter_path = "{tmp_path}/dead.jsonl"\nlisten_port = 0\n'
            f'[alerts]\nevaluate_every_s = 1\nopen_data_listen = "127.0.0.1:{port}"\n'
            "open_data_requests_per_minute = 40\n"
        )
        log = tmp_path / "bridge.log"
        with servers.edge_process(["bridge", "-c", str(conf)], log):
            subscribed = "b-open-alerts 1 edge/+/data"
            wait_for(
                lambda: subscriptions.exists() and subscribed in subscriptions.read_text(),
                30,
                "the alert feed subscribed",
                (log,),
            )
            asyncio.run(publish(mosquitto))
            check_feed(f"http://127.0.0.1:{port}/open-data/hotspots", log)


def check_feed(base: str, log: Path) -> None:
    def hotspots() -> list[dict[str, Any]] | None:
        try:
            status, _, body = get(f"{base}.json")
        except OSError:
            return None
        found: list[dict[str, Any]] = json.loads(body)["hotspots"] if status == 200 else []
        return found if len(found) == 2 else None

    records = wait_for(hotspots, 20, "two hotspots in the feed", (log,))
    assert records == [
        {"site": "Kanoman", "lat": -6.71, "lon": 108.56, "status": "down", "clients": None},
        {"site": "Kejaksan", "lat": -6.7063, "lon": 108.557, "status": "up", "clients": "busy"},
    ]
    status, headers, body = get(f"{base}.geojson")
    assert status == 200 and headers["Content-Type"].startswith("application/geo+json")
    assert headers["Cache-Control"] == "public, max-age=30"
    geo = json.loads(body)
    assert set(geo) == {"type", "updated", "features"}
    for feature in geo["features"]:
        assert set(feature) == {"type", "geometry", "properties"}
        assert set(feature["properties"]) == {"site", "status", "clients"}
    text = body.decode() + json.dumps(records)
    assert [secret for secret in SECRETS if secret in text] == []  # names, MACs, IPs, hashes, errors
    assert "Secret" not in text and "37" not in json.dumps(records)  # no unplaced AP, no exact count
    assert get(f"{base}.geojson", {"If-None-Match": headers["ETag"]})[0] == 304

    codes = [get(f"{base}.json")[0] for _ in range(20)]
    assert 429 in codes  # 40 a minute, bursts of 10: twenty at once are too many
    refused = get(f"{base}.json")
    assert refused[0] == 429 and int(refused[1]["Retry-After"]) >= 1
