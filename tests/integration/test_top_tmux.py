"""`edge top` in a real terminal (tmux), against a real agent's page: devices with their state, sorting,
filtering and searching by keys, quitting with `q`; the token read from a file, never argv."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway_dev import servers
from tests.integration.helpers import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by make setup"),
]
TOKEN = "top-secret-token-for-the-test"


SOCKET = f"edge-top-test-{uuid.uuid4().hex[:8]}"  # our own tmux server, not a user's


def tmux(*args: str, check: bool = True) -> str:
    command = ["tmux", "-L", SOCKET, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=10, check=check).stdout


@pytest.fixture
def agent_page(tmp_path: Path, mosquitto: servers.Server, snmpd: servers.Server) -> Iterator[str]:
    port = servers.free_port()
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[gateway]\nid = "cbn-gw-top"\n[uplink]\nurl = "{mosquitto.url}"\n'
        f'[buffer]\npath = "{tmp_path}/b.db"\n'
        f'[status]\nlisten = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n'
        f'[[snmp.devices]]\nname = "ap-alun-alun"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
        'site = "Kejaksan"\ninterval_s = 1\n'
        f'[[snmp.devices]]\nname = "ap-dead"\nhost = "127.0.0.1:{servers.free_port(socket.SOCK_DGRAM)}"\n'
        'community = "public"\nsite = "Pasar"\ninterval_s = 1\ntimeout_s = 0.2\nretries = 0\n'
    )
    with servers.edge_process(["agent", "-c", str(config)], tmp_path / "agent.log"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def session(tmp_path: Path, agent_page: str) -> Iterator[str]:
    name = f"edge-top-{uuid.uuid4().hex[:8]}"
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    # COLUMNS/LINES of the test run would override the pane's size.
    command = f"env -u COLUMNS -u LINES {sys.executable} -m edge_gateway.cli.main top --url {agent_page}"
    command += f" --token-file {token_file} --interval-s 0.5"
    tmux("new-session", "-d", "-s", name, "-x", "200", "-y", "30", command)
    try:
        yield name
    finally:
        tmux("kill-server", check=False)


def screen(name: str) -> str:
    return tmux("capture-pane", "-p", "-t", name)


def shown(name: str, *texts: str, absent: tuple[str, ...] = ()) -> str:
    def ready() -> str | None:
        text = screen(name)
        ok = all(t in text for t in texts) and not any(t in text for t in absent)
        return text if ok else None

    try:
        return wait_for(ready, 30, f"{texts} on the screen without {absent}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nlast screen:\n{screen(name)}") from exc


def device_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "ap-alun-alun" in line or "ap-dead" in line]


def test_top_shows_filters_sorts_and_quits(session: str) -> None:
    text = shown(session, "ap-alun-alun", "ap-dead", "cbn-gw-top", "bit/s")
    assert "down" in next(line for line in device_lines(text) if "ap-dead" in line)
    tmux("send-keys", "-t", session, "f")  # state filter: down
    text = shown(session, "state=down", "ap-dead", absent=("ap-alun-alun",))
    tmux("send-keys", "-t", session, "f")  # up
    shown(session, "state=up", "ap-alun-alun", absent=("ap-dead",))
    tmux("send-keys", "-t", session, "f")  # all again
    tmux("send-keys", "-t", session, "t")  # site: the first one, Kejaksan
    shown(session, "site=Kejaksan", "ap-alun-alun", absent=("ap-dead",))
    tmux("send-keys", "-t", session, "t", "t")  # Pasar, then every site
    tmux("send-keys", "-t", session, "/", "d", "e", "a", "d", "Enter")
    shown(session, "search=dead", "ap-dead", absent=("ap-alun-alun",))
    tmux("send-keys", "-t", session, "Escape")
    text = shown(session, "ap-alun-alun", "ap-dead", absent=("search=",))
    tmux("send-keys", "-t", session, "r")  # names in reverse
    text = shown(session, "sort name desc", "ap-dead")
    lines = device_lines(text)
    assert "ap-dead" in lines[0] and "ap-alun-alun" in lines[1]
    tmux("send-keys", "-t", session, "q")

    def ended() -> bool | None:
        panes = subprocess.run(
            ["tmux", "-L", SOCKET, "list-panes", "-t", session], capture_output=True, check=False
        )
        return True if panes.returncode != 0 else None

    wait_for(ended, 10, "edge top to quit on q")


def test_once_prints_one_table(agent_page: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    args = [
        sys.executable,
        "-m",
        "edge_gateway.cli.main",
        "top",
        "--url",
        agent_page,
        "--token-file",
        str(token_file),
    ]

    def table() -> str | None:
        done = subprocess.run([*args, "--once"], capture_output=True, text=True, timeout=30, check=False)
        return done.stdout if done.returncode == 0 and "ap-dead" in done.stdout else None

    assert "ap-alun-alun" in wait_for(table, 30, "both devices in edge top --once")
    refused = subprocess.run([*args[:-2], "--once"], capture_output=True, text=True, timeout=30, check=False)
    assert refused.returncode == 1 and "401" in refused.stderr
