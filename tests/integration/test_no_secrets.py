"""No secret in any log, page, error or dead letter (issue 14).

Every secret of a run is a unique marker string: the MQTT passwords, the InfluxDB v1 password and v2
token, the SNMP community, the v3 auth and priv keys, the keyed-hash secret for client MACs and the
status page token. The agent polls a real snmpd (v2c and v3) and forwards to the shipped broker; two
bridges read it, one against an "InfluxDB" that answers garbage instead of HTTP (v1, where the password
once leaked in a URL), one against the same garbage with a v2 token; a gateway sends hostile messages
that are dead-lettered; config errors are provoked. Then every file the run wrote (logs, pages fetched,
dead letters, the buffer, the broker's log) is searched for every marker.
"""

from __future__ import annotations

import json
import secrets
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes

from edge_gateway.core.mqtt import properties
from edge_gateway_dev import servers
from tests.integration.shipped_broker import ShippedBroker, shipped_broker

pytestmark = pytest.mark.integration

DEADLINE_S = 60.0
# The files the test itself wrote with the secrets in them: the inputs, not outputs.
INPUT_SUFFIXES = (".toml", ".secret", ".conf", ".crt", ".key")


def marker(what: str) -> str:
    return f"{what}-{secrets.token_hex(8)}"


MARKERS = {
    what: marker(what)
    for what in (
        "mqttpw",
        "urlpw",
        "influxpw",
        "influxtoken",
        "community",
        "authkey",
        "privkey",
        "hashkey",
        "statustoken",
    )
}


class _Garbage(socketserver.BaseRequestHandler):
    """Answers any request with bytes that are not HTTP, like a broken proxy or the wrong port."""

    def handle(self) -> None:
        self.request.recv(65_536)
        self.request.sendall(b"\x00\x7fnot http at all\r\n\r\n")


@pytest.fixture
def garbage_http() -> Iterator[int]:
    with socketserver.ThreadingTCPServer((servers.LOOPBACK, 0), _Garbage) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield int(server.server_address[1])
        server.shutdown()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def fetch(url: str, token: str | None = None) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return f"{response.status}\n{response.read().decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code}\n{exc.read().decode(errors='replace')}"
    except OSError as exc:
        return f"no answer: {exc}"


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def agent_config(tmp: Path, broker: ShippedBroker, snmp_port: int, status_port: int) -> str:
    (tmp / "uplink.secret").write_text(broker.password("gw-a") + "\n")
    return f"""
[gateway]
id = "gw-a"
[uplink]
url = "mqtts://{broker.server.host}:{broker.server.port}"
username = "gw-a"
password_file = "{tmp / "uplink.secret"}"
ca_file = "{broker.tls.ca_cert}"
[buffer]
path = "{tmp / "buffer.db"}"
[status]
listen = "127.0.0.1:{status_port}"
token = "{MARKERS["statustoken"]}"
[snmp]
clients = true
client_hash_key = "{MARKERS["hashkey"]}"
[[snmp.devices]]
name = "ap-v2c"
host = "127.0.0.1:{snmp_port}"
community = "{MARKERS["community"]}"
interval_s = 1
[[snmp.devices]]
name = "ap-v3"
host = "127.0.0.1:{snmp_port}"
version = "3"
user = "noc"
auth_protocol = "sha"
auth_key = "{MARKERS["authkey"]}"
priv_protocol = "aes"
priv_key = "{MARKERS["privkey"]}"
interval_s = 1
[[snmp.devices]]
name = "ap-gone"
host = "127.0.0.1:{servers.free_port(socket.SOCK_DGRAM)}"
community = "{MARKERS["community"]}"
interval_s = 1
timeout_s = 0.2
"""


def bridge_config(tmp: Path, broker: ShippedBroker, name: str, influx: str, port: int) -> str:
    secret = tmp / "bridge.secret"
    secret.write_text(broker.password("edge-bridge") + "\n")
    return f"""
[mqtt]
url = "mqtts://{broker.server.host}:{broker.server.port}"
username = "edge-bridge"
password_file = "{secret}"
ca_file = "{broker.tls.ca_cert}"
client_id = "{name}"
[influxdb]
{influx}
[bridge]
dead_letter_path = "{tmp / f"{name}-dead.jsonl"}"
listen_port = {port}
[alerts]
enabled = false
"""


def publish_hostile(broker: ShippedBroker) -> None:
    """gw-b sends a batch the bridge must refuse: a forged gateway tag, then bytes that are no UTF-8."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="gw-b", protocol=paho.MQTTv5)
    client.username_pw_set("gw-b", broker.password("gw-b"))
    client.tls_set(ca_certs=str(broker.tls.ca_cert))
    client.connect(broker.server.host, broker.server.port)
    client.loop_start()
    try:
        for seq, payload in enumerate((b"ap,gateway=gw-a,device=x up=true 1\n", b"\xff\xfe[[[[\n"), 1):
            props = properties(PacketTypes.PUBLISH)
            props.UserProperty = [("seq", str(seq)), ("n", "1"), ("v", "1")]
            client.publish("edge/gw-b/data", payload, qos=1, properties=props).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def check_configs(tmp: Path, broken: dict[str, str]) -> None:
    """`edge check-config` and `edge agent|bridge` on each broken config (name: text), all at once;
    each one's output goes to a log."""
    runs = []
    for name, text in broken.items():
        config = write(tmp / f"{name}.toml", text)
        for args in (["check-config", str(config)], [name.split("-")[0], "-c", str(config)]):
            with (tmp / f"{name}-{args[0]}.log").open("wb") as log:
                command = [sys.executable, "-m", "edge_gateway", *args]
                runs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    for run in runs:
        assert run.wait(60) != 0, run.args


def leaks(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix in INPUT_SUFFIXES or path.name in ("mosquitto_ctrl", "passwd"):
            continue
        data = path.read_bytes()
        hits = [what for what, value in MARKERS.items() if value.encode() in data]
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def test_no_secret_in_any_log_page_error_or_dead_letter(tmp_path: Path, garbage_http: int) -> None:
    v3_user = f'createUser noc SHA "{MARKERS["authkey"]}" AES "{MARKERS["privkey"]}"\nrouser noc priv\n'
    status_port, ports = servers.free_port(), (servers.free_port(), servers.free_port())
    influx_v1 = (
        f'url = "http://127.0.0.1:{garbage_http}"\napi = "v1"\ndatabase = "edge"\n'
        f'username = "noc"\npassword = "{MARKERS["influxpw"]}"'
    )
    influx_v2 = (
        f'url = "http://127.0.0.1:{garbage_http}"\napi = "v2"\norg = "city"\nbucket = "edge"\n'
        f'token = "{MARKERS["influxtoken"]}"'
    )
    with (
        shipped_broker(tmp_path / "broker", ("gw-a", "gw-b"), ("edge-bridge",), MARKERS["mqttpw"]) as broker,
        servers.snmpd(tmp_path / "snmpd", community=MARKERS["community"], extra_config=v3_user) as snmpd,
    ):
        run = tmp_path / "run"
        run.mkdir()
        agent = write(run / "edge.toml", agent_config(run, broker, snmpd.port, status_port))
        bridges = [
            write(run / f"{name}.toml", bridge_config(run, broker, name, influx, port))
            for name, influx, port in (("bridge-v1", influx_v1, ports[0]), ("bridge-v2", influx_v2, ports[1]))
        ]
        with (
            servers.edge_process(["bridge", "-c", str(bridges[0])], run / "bridge-v1.log"),
            servers.edge_process(["bridge", "-c", str(bridges[1])], run / "bridge-v2.log"),
            servers.edge_process(["agent", "-c", str(agent)], run / "agent.log"),
        ):
            status = f"http://127.0.0.1:{status_port}"

            def polled_and_sent() -> bool:
                text = fetch(f"{status}/api/status", MARKERS["statustoken"])
                if not text.startswith("200"):
                    return False
                snap = json.loads(text.split("\n", 1)[1])
                polled = all(d["last_poll_age_s"] is not None for d in snap["devices"].values())
                return polled and snap["uplink"]["published"] > 0

            wait_for(polled_and_sent, "the agent to poll every device and publish")
            publish_hostile(broker)

            def bridge_metric(port: int, name: str) -> float:
                text = fetch(f"http://127.0.0.1:{port}/metrics")
                values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(name)]
                return sum(float(value) for value in values)

            wait_for(lambda: bridge_metric(ports[1], "edge_bridge_write_failures_total") > 0, "v2 failures")
            wait_for(
                lambda: sum(bridge_metric(p, "edge_bridge_dead_letter_records_total") for p in ports) >= 2,
                "both hostile messages dead-lettered",
            )
            wait_for(lambda: "WARNING" in (run / "bridge-v1.log").read_text(), "the v1 bridge's error")
            pages = {
                "status-page.html": fetch(f"{status}/", MARKERS["statustoken"]),
                "status-page-query.html": fetch(f"{status}/?token={MARKERS['statustoken']}"),
                "status-api.json": fetch(f"{status}/api/status", MARKERS["statustoken"]),
                "status-metrics.txt": fetch(f"{status}/metrics", MARKERS["statustoken"]),
                "status-refused.txt": fetch(f"{status}/", "wrong-token"),
                "bridge-v1-metrics.txt": fetch(f"http://127.0.0.1:{ports[0]}/metrics"),
                "bridge-v2-metrics.txt": fetch(f"http://127.0.0.1:{ports[1]}/metrics"),
                "bridge-v2-healthz.txt": fetch(f"http://127.0.0.1:{ports[1]}/healthz"),
            }
            for name, text in pages.items():
                assert text.startswith(("200", "401", "503")), (name, text)
                write(run / name, text)

        agent_broken = (
            agent.read_text()
            .replace(f'url = "mqtts://{broker.server.host}', f'url = "mqtts://gw-a:{MARKERS["urlpw"]}@h')
            .replace(f":{broker.server.port}", ":99999", 1)
            .replace("interval_s = 1\n", "interval_s = -1\n")
        )
        bridge_broken = (
            bridges[0]
            .read_text()
            .replace('url = "mqtts://', f'url = "mqtts://edge-bridge:{MARKERS["urlpw"]}@')
            .replace(f":{broker.server.port}", ":99999")
            .replace('url = "http://', f'url = "http://noc:{MARKERS["influxpw"]}@')
            .replace('database = "edge"', 'database = ""')
        )
        check_configs(run, {"agent-broken": agent_broken, "bridge-broken": bridge_broken})
    assert leaks(tmp_path) == {}
