"""What the systemd units' sandbox would refuse, measured on the real processes.

This machine has no systemd as PID 1, so the units cannot be started here. Instead the agent (polling a
real snmpd, reading a serial pty, forwarding to Mosquitto, serving its page) and the bridge (storing in
InfluxDB, serving /metrics) run under strace until data is stored and then stop on SIGTERM; every system
call they made must be in the units' `SystemCallFilter=` (@system-service without @privileged and
@resources), and every /proc file they opened must be one `ProcSubset=pid` leaves them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway_dev import servers
from tests.integration.helpers import influx_query, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("strace") is None or shutil.which("systemd-analyze") is None,
        reason="needs strace and systemd-analyze (Debian packages strace, systemd)",
    ),
]

CALL = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]")
PROC_OPEN = re.compile(r'open(?:at)?\((?:AT_FDCWD, )?"(/proc/[^"]*)"')
PROC_ALLOWED = re.compile(r"^/proc/(self|thread-self|\d+)(/|$)")
# SQLite chowns its journal and WAL files to the database's owner only when its effective uid is 0;
# the services run as user `edge`, so a test run as root sees a call the services never make.
AS_ROOT_ONLY = frozenset({"fchown"}) if os.geteuid() == 0 else frozenset()


@functools.cache
def syscalls(group: str) -> frozenset[str]:
    """The system calls of a systemd group (`@name`), nested groups expanded."""
    listing = subprocess.run(
        ["systemd-analyze", "syscall-filter", "--no-pager", group], capture_output=True, text=True, check=True
    ).stdout
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        names |= syscalls(item) if item.startswith("@") else {item}
    return frozenset(names)


def unit_filter(unit: Path) -> frozenset[str]:
    """The allow list a unit's SystemCallFilter= lines make: the first allows, `~` lines take away."""
    allowed: frozenset[str] = frozenset()
    for line in unit.read_text().splitlines():
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1]
        groups = value.removeprefix("~").split()
        names = frozenset().union(*(syscalls(g) if g.startswith("@") else {g} for g in groups))
        allowed = allowed - names if value.startswith("~") else allowed | names
    return allowed


@contextlib.contextmanager
def traced(args: list[str], trace: Path, log: Path) -> Iterator[None]:
    """`python -m edge_gateway ARGS` under `strace -f`; SIGTERM to the traced process at the end, as systemd
    does."""
    command = [
        "strace",
        "-f",
        "-qq",
        "-s",
        "128",
        "-o",
        str(trace),
        sys.executable,
        "-m",
        "edge_gateway",
        *args,
    ]
    with log.open("wb") as out:
        tracer = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        children = Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children")
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(children.read_text().split()[0]), signal.SIGTERM)
        try:
            tracer.wait(servers.STOP_TIMEOUT_S * 3)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()


def calls_and_proc_files(trace: Path) -> tuple[set[str], set[str]]:
    calls, proc_files = set(), set()
    for line in trace.read_text(errors="replace").splitlines():
        if found := CALL.match(line):
            calls.add(found.group(1))
        if found := PROC_OPEN.search(line):
            proc_files.add(found.group(1))
    return calls, proc_files


def test_every_system_call_is_in_the_units_filter(
    tmp_path: Path, mosquitto: servers.Server, influxdb: servers.Server, snmpd: servers.Server
) -> None:
    controller, device = os.openpty()  # a serial port for the agent to open, set up and read
    status_port, pages_port = servers.free_port(), servers.free_port()
    agent_conf = tmp_path / "edge.toml"
    agent_conf.write_text(
        f'[gateway]\nid = "gw-1"\n[uplink]\nurl = "{mosquitto.url}"\n'
        f'[buffer]\npath = "{tmp_path}/buffer.db"\n[status]\nlisten = "127.0.0.1:{status_port}"\n'
        f'[[snmp.devices]]\nname = "ap-1"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
        "interval_s = 1\n"
        f'[[serial.buses]]\nname = "gps-bus"\nport = "{os.ttyname(device)}"\n'
        '[[serial.buses.sensors]]\nname = "gps"\ndriver = "nmea"\ninterval_s = 1\n'
    )
    bridge_conf = tmp_path / "bridge.toml"
    bridge_conf.write_text(
        f'[mqtt]\nurl = "{mosquitto.url}"\n'
        f'[influxdb]\nurl = "{influxdb.url}"\napi = "v1"\ndatabase = "edge"\n'
        f'[bridge]\ndead_letter_path = "{tmp_path}/dead.jsonl"\nlisten_port = {pages_port}\n'
        "[alerts]\nenabled = false\n"
    )
    traces = {"edge-agent": tmp_path / "agent.trace", "edge-bridge": tmp_path / "bridge.trace"}
    logs = (tmp_path / "agent.log", tmp_path / "bridge.log")
    try:
        with (
            traced(["bridge", "-c", str(bridge_conf)], traces["edge-bridge"], logs[1]),
            traced(["agent", "-c", str(agent_conf)], traces["edge-agent"], logs[0]),
        ):
            os.write(controller, b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n")

            def stored() -> bool:
                series = influx_query(influxdb.url, "edge", "SELECT count(up) FROM device_status")
                return bool(series) and series[0]["values"][0][1] >= 2

            wait_for(stored, 90, "readings stored under strace", logs)
            for url in (f"http://127.0.0.1:{status_port}/", f"http://127.0.0.1:{pages_port}/metrics"):
                with urllib.request.urlopen(url, timeout=10) as response:
                    assert response.status == 200
    finally:
        os.close(controller)
        os.close(device)
    units = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
    for unit, trace in traces.items():
        calls, proc_files = calls_and_proc_files(trace)
        assert len(calls) > 50, f"{unit}: strace saw too little ({sorted(calls)})"
        assert sorted(calls - AS_ROOT_ONLY - unit_filter(units / f"{unit}.service")) == [], unit
        assert sorted(p for p in proc_files if not PROC_ALLOWED.match(p)) == [], unit
