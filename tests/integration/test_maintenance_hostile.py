"""What the agent reads from `[status] alertmanager_url` is bounded and parsed defensively, and a
stop never waits for it: an Alertmanager (or whatever answers there) that trickles its reply a byte at
a time does not hold up `systemctl stop`."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from edge_gateway.agent.status_maintenance import MaintenanceWatch
from edge_gateway.core.maintenance import MAX_SILENCES_BYTES, Maintenance
from edge_gateway_dev import servers
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # the silences end in 2099: any hour would do
ACTIVE = {"status": {"state": "active"}, "endsAt": "2099-01-01T00:00:00Z", "comment": "maintenance: mast"}


@contextlib.contextmanager
def answering(body: bytes) -> Iterator[str]:
    """An HTTP server on loopback that answers every GET with `body` as JSON; its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "body",
    [
        b'[1, "x", null, {"status": "active"}, {"status": {"state": "active"}, "matchers": [5]}]',
        b'{"silences": []}',
        b"[" + b" " * MAX_SILENCES_BYTES + b"]",
        b"\xff\xfe not json",
    ],
    ids=["wrong-shapes", "not-a-list", "too-big", "not-json"],
)
async def test_a_hostile_answer_is_counted_and_the_last_answer_kept(body: bytes) -> None:
    good = [{**ACTIVE, "matchers": [{"name": "device", "value": "ap-x", "isRegex": False, "isEqual": True}]}]
    with answering(body) as url:
        watch = MaintenanceWatch(url)
        watch.known = [Maintenance("device", "ap-x", "2099-01-01T00:00:00Z", "mast")]
        await watch.refresh()
    if body.startswith(b"[1,"):  # valid JSON of the wrong shapes: nothing in maintenance, no failure
        assert watch.failures == 0 and watch.known == []
    else:
        assert watch.failures == 1 and watch.of("ap-x", "K", NOW) is not None
    with answering(json.dumps(good).encode()) as watch.url:
        await watch.refresh()
    assert watch.failures == 0 and watch.of("ap-x", "K", NOW) == {
        "scope": "device", "until": "2099-01-01T00:00:00Z", "reason": "mast"
    }  # fmt: skip


class Trickle:
    """Accepts connections and sends one byte of a never-ending status line every 0.2 s until closed."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = threading.Event()
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            peer, _ = self.listener.accept()
            self.accepted.set()
            with peer:
                while not self.closed.wait(0.2):
                    peer.sendall(b"H")

    def close(self) -> None:
        self.closed.set()
        self.listener.close()


def test_a_trickling_alertmanager_does_not_hold_the_stop(tmp_path: Path) -> None:
    trickle = Trickle()
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[gateway]\nid = "gw-stop"\n[uplink]\nurl = "mqtt://127.0.0.1:{servers.free_port()}"\n'
        f'[buffer]\npath = "{tmp_path / "buffer.db"}"\n'
        f'[status]\nlisten = "127.0.0.1:{servers.free_port()}"\n'
        f'alertmanager_url = "http://127.0.0.1:{trickle.port}"\n'
    )
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        agent = subprocess.Popen(
            [sys.executable, "-m", "edge_gateway", "agent", "-c", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(trickle.accepted.is_set, 60, "the agent asking for the silences", (log,))
        agent.send_signal(signal.SIGTERM)
        try:
            code = agent.wait(60)  # the trickle goes on all this time: a joined fetch would never end
        except subprocess.TimeoutExpired:
            pytest.fail("the agent did not stop while Alertmanager trickled its answer")
        assert code == 0, log.read_text()[-2000:]
    finally:
        trickle.close()
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)
