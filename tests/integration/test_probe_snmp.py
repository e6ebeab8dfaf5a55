"""`edge probe snmp` against a real net-snmp snmpd: rates and utilisation from two polls, a configured
device by name, secrets from files and the environment, and every failure classified with its hint.
The classes no snmpd here can be made to show (tooBig to a one-varbind GET, a notInTimeWindow that
resynchronising does not cure) and the wrong community are also checked against the project's
simulated AP, which answers v3 discovery as snmpd does, so the probe reads both alike."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.probe import probe
from edge_gateway.core.validation import validate
from edge_gateway_dev import servers
from edge_gateway_dev.sim.snmp import ApHandle, ApSpec, V3User, run_fleet

pytestmark = pytest.mark.integration
V3_USER = 'createUser u SHA "authpass123" AES "privpass123"\nrouser u priv\n'
FAST = ["--timeout-s", "0.5", "--retries", "0"]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    with servers.snmpd(tmp_path_factory.mktemp("snmpd"), community="edge-ro", extra_config=V3_USER) as server:
        yield server


def edge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "edge_gateway.cli.main", "probe", "snmp", *args]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EDGE_PROBE_")} | (env or {})
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=environment)


def v3(auth: str = "authpass123", priv: str = "privpass123", user: str = "u") -> list[str]:
    return [
        *("--v3-user", user, "--auth-protocol", "sha", "--auth-key", auth),
        *("--priv-protocol", "aes", "--priv-key", priv),
    ]


def test_two_polls_give_rates_and_utilisation_per_interface(agent: servers.Server, tmp_path: Path) -> None:
    secret = tmp_path / "community"
    secret.write_text("edge-ro\n")
    done = edge(
        f"127.0.0.1:{agent.port}",
        "--community-file",
        str(secret),
        "--rate-window-s",
        "0.5",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    ifaces = [r for r in json.loads(done.stdout) if r["measurement"] == "ap_iface"]
    lo = next(r["fields"] for r in ifaces if r["tags"]["ifname"] == "lo")
    assert lo["in_bps"] >= 0 and lo["out_bps"] >= 0
    assert lo["speed_mbps"] > 0 and 0 <= lo["in_util_pct"] <= 100 and 0 <= lo["out_util_pct"] <= 100


@pytest.mark.parametrize("output", ["table", "lp"])
def test_rates_are_printed_in_every_format(agent: servers.Server, output: str) -> None:
    done = edge(
        f"127.0.0.1:{agent.port}",
        "--rate-window-s",
        "0.5",
        "--format",
        output,
        env={"EDGE_PROBE_COMMUNITY": "edge-ro"},
    )
    assert done.returncode == 0, done.stderr
    lo = next(
        line for line in done.stdout.splitlines() if line.startswith("ap_iface") and "ifname=lo" in line
    )
    assert "in_bps=" in lo and "out_bps=" in lo and "in_util_pct=" in lo


def test_a_configured_device_by_name_with_keys_from_files(agent: servers.Server, tmp_path: Path) -> None:
    (tmp_path / "auth").write_text("authpass123")
    (tmp_path / "priv").write_text("privpass123")
    config = tmp_path / "edge.toml"
    config.write_text(
        '[gateway]\nid = "gw-lab"\nsite = "lab"\n[[snmp.devices]]\nname = "ap-roof"\n'
        f'host = "localhost:{agent.port}"\nversion = "3"\nuser = "u"\n'
        f'auth_protocol = "sha"\nauth_key_file = "{tmp_path / "auth"}"\n'
        f'priv_protocol = "aes"\npriv_key_file = "{tmp_path / "priv"}"\n'
    )
    done = edge("ap-roof", "-c", str(config), "--rate-window-s", "0.2", "--format", "lp")
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("ap,device=ap-roof") for line in done.stdout.splitlines())
    missing = edge("ap-cellar", "-c", str(config))
    assert missing.returncode == 2 and "no SNMP device named 'ap-cellar'" in missing.stderr


def test_v3_keys_from_the_environment(agent: servers.Server) -> None:
    env = {"EDGE_PROBE_AUTH_KEY": "authpass123", "EDGE_PROBE_PRIV_KEY": "privpass123"}
    args = ["--v3-user", "u", "--auth-protocol", "sha", "--priv-protocol", "aes", "--rate-window-s", "0"]
    done = edge(f"127.0.0.1:{agent.port}", *args, env=env)
    assert done.returncode == 0, done.stderr


def failure(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stderr
    assert "hint: " in done.stderr
    return done.stderr


def test_wrong_community(agent: servers.Server) -> None:
    text = failure(edge(f"127.0.0.1:{agent.port}", "--community", "guess", *FAST))
    assert "wrong-community" in text and "no answer with this community" in text


def test_nothing_listening_on_the_port() -> None:
    port = servers.free_port(socket.SOCK_DGRAM)
    assert "no-snmp: " in failure(edge(f"127.0.0.1:{port}", *FAST))


def test_a_host_that_does_not_resolve() -> None:
    assert "unreachable: " in failure(edge("no-such-ap.invalid", *FAST))


def test_silence_is_a_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
        mute.bind(("127.0.0.1", 0))  # receives and never answers, so no port-unreachable either
        assert "timeout: " in failure(edge(f"127.0.0.1:{mute.getsockname()[1]}", *FAST))


@pytest.mark.parametrize(
    ("credentials", "kind"),
    [
        (v3(user="nobody"), "unknown-user"),
        (v3(auth="wrongpass123"), "wrong-auth-key"),
        (v3(priv="wrongpass123"), "wrong-priv-key"),
    ],
    ids=["unknown-user", "wrong-auth", "wrong-priv"],
)
def test_v3_failures_are_told_apart(agent: servers.Server, credentials: list[str], kind: str) -> None:
    assert f"{kind}: " in failure(edge(f"127.0.0.1:{agent.port}", *credentials, *FAST))


def sim_section(ap: ApHandle, **credentials: str) -> SnmpSection:
    device = {"name": "probe", "host": f"{ap.host}:{ap.port}", "timeout_s": 0.5, "retries": 0}
    return validate(SnmpSection, {"devices": [device | {"interval_s": 60} | credentials]})


async def diagnosis_of(ap: ApHandle, **credentials: str) -> str:
    """The probe's verdict, in this event loop (the simulated AP answers from it meanwhile)."""
    _, up, why = await probe(sim_section(ap, **credentials), 0)
    assert not up
    return why


async def test_wrong_community_of_a_simulated_ap_reads_as_with_snmpd() -> None:
    """A v2c-only simulated AP drops the unknown community but answers v3 discovery, as snmpd does."""
    async with run_fleet([ApSpec("ap-v2c", "mikrotik", 1)]) as (ap,):
        why = await diagnosis_of(ap, community="guess")
    assert why.startswith("wrong-community: ") and "hint: no answer with this community" in why


async def test_too_big_even_for_one_varbind_is_told_with_its_hint() -> None:
    async with run_fleet([ApSpec("ap-tiny", "generic", 2)]) as (ap,):
        ap.faults.max_reply_bytes = 50  # less than any reply: every answer is error-status tooBig
        why = await diagnosis_of(ap, community="public")
        assert ap.stats.responses > 0  # it did answer, with tooBig
    assert why.startswith("too-big: ") and "hint: the answers do not fit the agent's message size" in why


async def test_a_time_window_resync_does_not_cure_is_told_with_its_hint() -> None:
    user = V3User("noc", auth_key="auth-key-123", priv_key="priv-key-456")
    async with run_fleet([ApSpec("ap-clock", "mikrotik", 3, community=None, v3=user)]) as (ap,):
        ap.faults.clock_skew_s = 1000  # its engine clock checks against another time than it reports
        credentials = {"version": "3", "user": "noc", "auth_protocol": "sha", "priv_protocol": "aes"}
        why = await diagnosis_of(ap, **credentials, auth_key="auth-key-123", priv_key="priv-key-456")
    assert why.startswith("not-in-time-window: usmStatsNotInTimeWindows")
    assert "hint: the agent's engine clock disagrees" in why
