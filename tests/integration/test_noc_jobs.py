"""The NOC's timed jobs as their shipped systemd units run them (deploy/systemd/edge-*.service): the
unit's own ExecStart, with the installed `edge` replaced by this checkout's and /etc/edge/bridge.toml
by a bridge config naming a real InfluxDB and Alertmanager on loopback. systemd itself cannot run
here; tests/deploy/test_systemd_security.py checks the unit files and timers with systemd-analyze.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.bridge.influx import basic_auth
from edge_gateway.core.model import Reading
from edge_gateway.noc.availability import Influx
from edge_gateway_dev import servers
from tests.integration.helpers import influx_query
from tests.integration.test_fleet_cli import edge
from tests.integration.test_sandbox_syscalls import (
    AS_ROOT_ONLY,
    PROC_ALLOWED,
    calls_and_proc_files,
    unit_filter,
)

pytestmark = pytest.mark.integration

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
NS = 1_000_000_000
POLL_S = 300
CITY = zoneinfo.ZoneInfo("Asia/Jakarta")  # the zone the availability job's days are in


def run_unit(unit: str, bridge_toml: Path, trace: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The unit's ExecStart, as the job it starts (under `strace -f` into `trace` if given)."""
    line = next(x for x in (UNITS / unit).read_text().splitlines() if x.startswith("ExecStart="))
    argv = line.removeprefix("ExecStart=").split()
    assert argv[0] == "/opt/edge/.venv/bin/edge" and "/etc/edge/bridge.toml" in argv
    argv = [
        sys.executable,
        "-m",
        "edge_gateway",
        *(str(bridge_toml) if a.startswith("/etc/edge/") else a for a in argv[1:]),
    ]
    tracer = ["strace", "-f", "-qq", "-s", "128", "-o", str(trace)] if trace else []
    return subprocess.run([*tracer, *argv], capture_output=True, text=True, timeout=120, check=False)


def bridge_config(
    work: Path, influx_url: str, alertmanager_url: str = "http://127.0.0.1:1", influx_login: str = ""
) -> Path:
    path = work / "bridge.toml"
    path.write_text(
        f'[mqtt]\nurl = "mqtt://127.0.0.1:1"\n[influxdb]\nurl = "{influx_url}"\ndatabase = "edge"\n'
        f"{influx_login}"
        f'[bridge]\ndead_letter_path = "{work}/dead.jsonl"\n'
        f'[alerts]\nalertmanager_url = "{alertmanager_url}"\n'
    )
    return path


def two_days_up(now_ns: int) -> list[Reading]:
    """An AP polled every 5 minutes for the last 48 hours, always up: yesterday is all of it."""
    tags = {"gateway": "gw", "device": "ap-1", "site": "Kejaksan", "kind": "snmp"}
    return [Reading("device_status", tags, {"up": True}, now_ns - n * POLL_S * NS) for n in range(576)]


def _city_date(time_ns: int) -> datetime.date:
    return datetime.datetime.fromtimestamp(time_ns / NS, CITY).date()


def _availability_twice(work: Path) -> tuple[int, list[Any], list[Any]]:
    """Two days of polls up to now, then the unit run twice: (now, what each run left stored)."""
    now_ns = time.time_ns()
    with servers.influxdb(work / "influx") as influx:
        influx_query(influx.url, "edge", "CREATE DATABASE edge")
        Influx(influx.url, "edge").write(two_days_up(now_ns))
        config = bridge_config(work, influx.url)
        stored = []
        for _ in range(2):
            done = run_unit("edge-availability.service", config)
            assert done.returncode == 0, done.stderr
            stored.append(
                influx_query(
                    influx.url,
                    "edge",
                    'SELECT "up_pct" FROM "availability" WHERE "scope" = \'device\' GROUP BY "period"',
                )
            )
    return now_ns, stored[0], stored[1]


def test_the_availability_unit_stores_yesterday_from_the_bridge_config_and_again_overwrites(
    tmp_path: Path,
) -> None:
    """Two days of polls up to now: whichever day is yesterday in the city, the job stores it (and
    its month), once; a second run (the timer again, or after a restart) leaves one point each.
    The job takes "yesterday" from the wall clock: a run that straddled the city's midnight (its
    second run then has a new yesterday to store) is run again."""
    for attempt in range(2):
        now_ns, first, second = _availability_twice(tmp_path / str(attempt))
        if _city_date(now_ns) == _city_date(time.time_ns()):
            break
    assert {s["tags"]["period"]: len(s["values"]) for s in first} == {"day": 1, "month": 1}
    assert second == first
    (day,) = [s["values"][0] for s in first if s["tags"]["period"] == "day"]
    assert now_ns - 2 * 86_400 * NS < day[0] < now_ns - 86_400 * NS + 1  # the start of yesterday
    assert day[1] == 100.0  # polled every 5 minutes all day, always up


def test_the_maintenance_unit_reads_alertmanager_and_influxdb_from_the_bridge_config(tmp_path: Path) -> None:
    with (
        servers.alertmanager(tmp_path / "am") as alertmanager,
        servers.influxdb(tmp_path / "influx") as influx,
    ):
        influx_query(influx.url, "edge", "CREATE DATABASE edge")
        done = run_unit("edge-maintenance.service", bridge_config(tmp_path, influx.url, alertmanager.url))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 maintenances copied to the boards"


def test_the_jobs_log_in_to_influxdb_as_the_bridge_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An InfluxDB with authentication: the bridge config's user and password open it to the job."""
    monkeypatch.setenv("INFLUXDB_HTTP_AUTH_ENABLED", "true")
    login = {"u": "edge", "p": "a-password-for-tests"}
    with servers.influxdb(tmp_path / "influx") as influx:
        # With authentication on and no user yet, InfluxDB accepts only the first admin's creation.
        influx_query(influx.url, "edge", f"CREATE USER edge WITH PASSWORD '{login['p']}' WITH ALL PRIVILEGES")
        authorization = basic_auth(login["u"], login["p"])
        Influx(influx.url, "edge", authorization).query("CREATE DATABASE edge")
        Influx(influx.url, "edge", authorization).write(two_days_up(time.time_ns()))
        credentials = f'username = "{login["u"]}"\npassword = "{login["p"]}"\n'
        done = run_unit(
            "edge-availability.service", bridge_config(tmp_path, influx.url, influx_login=credentials)
        )
        assert done.returncode == 0, done.stderr
        stored = Influx(influx.url, "edge", authorization).query('SELECT count("up_s") FROM "availability"')
        refused = run_unit("edge-availability.service", bridge_config(tmp_path, influx.url))
        report = city_report(tmp_path, bridge_config(tmp_path, influx.url, influx_login=credentials))
        report_refused = city_report(tmp_path, bridge_config(tmp_path, influx.url))
    assert stored[0]["values"][0][1] > 0
    assert refused.returncode == 1 and "401" in refused.stderr
    assert report.returncode == 0, report.stderr
    assert (
        report.stdout.startswith("report of 1 sites") and "Kejaksan" in (tmp_path / "report.html").read_text()
    )
    assert report_refused.returncode == 1 and "401" in report_refused.stderr


def city_report(work: Path, bridge_toml: Path) -> subprocess.CompletedProcess[str]:
    """`edge report -c bridge.toml` over the last two days, as the city's staff run it."""
    end = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    start = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 2 * 86_400))
    period = ("--from", start, "--to", end)
    return edge("report", "-c", str(bridge_toml), *period, "--out", str(work / "report.html"))


@pytest.mark.skipif(
    shutil.which("strace") is None or shutil.which("systemd-analyze") is None,
    reason="needs strace and systemd-analyze (Debian packages strace, systemd)",
)
def test_the_jobs_make_only_the_system_calls_their_units_allow(tmp_path: Path) -> None:
    """As tests/integration/test_sandbox_syscalls.py does for the agent and the bridge: each job, run
    to its end under strace, stays inside its unit's SystemCallFilter= and ProcSubset=pid."""
    with (
        servers.alertmanager(tmp_path / "am") as alertmanager,
        servers.influxdb(tmp_path / "influx") as influx,
    ):
        influx_query(influx.url, "edge", "CREATE DATABASE edge")
        Influx(influx.url, "edge").write(two_days_up(time.time_ns()))
        config = bridge_config(tmp_path, influx.url, alertmanager.url)
        for unit in ("edge-availability.service", "edge-maintenance.service"):
            done = run_unit(unit, config, tmp_path / f"{unit}.trace")
            assert done.returncode == 0, done.stderr
    for unit in ("edge-availability.service", "edge-maintenance.service"):
        calls, proc_files = calls_and_proc_files(tmp_path / f"{unit}.trace")
        assert len(calls) > 30, f"{unit}: strace saw too little ({sorted(calls)})"
        assert sorted(calls - AS_ROOT_ONLY - unit_filter(UNITS / unit)) == [], unit
        assert sorted(p for p in proc_files if not PROC_ALLOWED.match(p)) == [], unit
