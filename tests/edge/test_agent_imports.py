"""A running agent imports only what it runs: no terminal UI, no pysnmp beside gufo, no cryptography
(also with remote configuration: a child verifies the NOC's signatures, agent/verify_child.py), no
camera client without cameras, no web framework for its page (on, as by default), no pydantic (its
config was checked by a child: agent/config_child.py), nothing of the bridge or the NOC.

The real `edge agent` process, polling an SNMP device that does not answer, is run under
`python -X importtime`, which lists every module the process imported, also after start.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edge_gateway.agent.buffer_schema import SCHEMA_VERSION
from edge_gateway.bridge.fleet_sign import keygen
from edge_gateway_dev import servers
from tests.integration.helpers import wait_for

NOT_RUN = (
    *("rich", "pysnmp", "pysmi", "cryptography", "pymodbus", "pynmea2", "aiohttp", "edge_gateway_dev"),
    *("pydantic", "pydantic_core", "pydantic_settings"),
)
NOT_RUN_PROJECT = (
    "edge_gateway.agent.top",
    "edge_gateway.agent.collectors.snmp.probe",
    "edge_gateway.agent.collectors.camera.collector",
    "edge_gateway.core.validation",
    "edge_gateway.bridge",
    "edge_gateway.alerts",
    "edge_gateway.noc",
)


def _polled(buffer_path: Path) -> bool:
    """The SNMP poller ran once: its device_status (down) reading is in the buffer."""
    if not buffer_path.exists():
        return False
    with contextlib.closing(sqlite3.connect(f"file:{buffer_path}?mode=ro", uri=True)) as db:
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                return False
            row = db.execute("SELECT 1 FROM readings WHERE body LIKE 'device_status,%' LIMIT 1").fetchone()
        except sqlite3.OperationalError:  # the agent is still creating it
            return False
    return row is not None


@pytest.mark.parametrize("remote", [False, True], ids=["installed", "remote-config"])
def test_the_running_agent_imports_only_what_it_runs(tmp_path: Path, remote: bool) -> None:
    """Also with `[remote_config]` on: signed messages are verified by a child (verify_child.py)."""
    remote_section = ""
    if remote:
        keygen(tmp_path / "noc.key", tmp_path / "noc.pub")
        remote_section = f'[remote_config]\nenabled = true\npublic_key_file = "{tmp_path / "noc.pub"}"\n'
    config = tmp_path / "edge.toml"
    config.write_text(
        remote_section
        + f"""
[gateway]
id = "gw-imports"
site = "lab"
[uplink]
url = "mqtt://127.0.0.1:{servers.free_port()}"
[buffer]
path = "{tmp_path / "buffer.db"}"
[status]
listen = "127.0.0.1:{servers.free_port()}"
[[snmp.devices]]
name = "ap-silent"
host = "127.0.0.1:{servers.free_port(socket.SOCK_DGRAM)}"
version = "2c"
community = "public"
profile = "auto"
interval_s = 5
"""
    )
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        agent = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "edge_gateway", "agent", "-c", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: _polled(tmp_path / "buffer.db"), 60, "a poll of the silent AP", (log,))
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
    imported = {
        line.split("|")[2].strip()
        for line in log.read_text(errors="replace").splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "gufo.snmp" in imported, "the SNMP backend the agent runs is imported"
    assert "aiomqtt" in imported
    assert "edge_gateway.agent.status_http" in imported, "the page is served"
    loaded = sorted(
        name
        for name in imported
        if name.split(".")[0] in NOT_RUN
        or any(name == m or name.startswith(m + ".") for m in NOT_RUN_PROJECT)
    )
    assert loaded == []
