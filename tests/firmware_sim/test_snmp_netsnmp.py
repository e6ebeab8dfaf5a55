"""net-snmp's own tools walk every profile, v2c and v3, completely and cleanly."""

from __future__ import annotations

import itertools
import shutil

import pytest

from edge_gateway_dev.sim.snmp import ApSpec, V3User, run_fleet
from edge_gateway_dev.sim.snmp.v3 import UNKNOWN_ENGINE_IDS, UNKNOWN_USER_NAMES
from tests.firmware_sim.snmp_netsnmp import credentials, run_tool

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("snmpbulkwalk") is None, reason="net-snmp tools not installed"),
]

VENDORS = ["mikrotik", "unifi", "airmax", "generic"]
USER = V3User("edge-noc", auth_key="auth-pass-1234", priv_key="priv-pass-5678")
AUTH_ONLY = V3User("edge-ro", auth_key="auth-only-9876")
NO_AUTH = V3User("edge-plain")
# Subtrees each walk must contain, and the IF-MIB that UniFi must not have.
MUST_HAVE = {
    "mikrotik": ["1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.4.1.14988.1.1.1.3.1.6", "1.3.6.1.4.1.14988.1.1.1.2.1.12"],
    "unifi": [
        "1.3.6.1.4.1.41112.1.6.1.2.1.8",
        "1.3.6.1.4.1.41112.1.6.1.1.1.6",
        "1.3.6.1.4.1.10002.1.1.1.4.2",
    ],
    "airmax": ["1.3.6.1.4.1.41112.1.4.5.1.15", "1.3.6.1.4.1.41112.1.4.7.1.3", "1.3.6.1.2.1.2.2.1.10"],
    "generic": ["1.3.6.1.2.1.31.1.1.1.10", "1.3.6.1.2.1.25.3.3.1.2", "1.3.6.1.2.1.25.2.3.1.6"],
}
NET_SNMP_TYPES = {
    "OCTET STRING": {"STRING", "Hex-STRING"},
    "OBJECT IDENTIFIER": {"OID"},
    "INTEGER": {"INTEGER"},
    "Counter32": {"Counter32"},
    "Gauge32": {"Gauge32"},
    "TimeTicks": {"Timeticks"},
    "Counter64": {"Counter64"},
    "IpAddress": {"IpAddress"},
}
EVENING_S = 1_795_438_800.0  # 2026-11-23 20:00 WIB: busy, many clients


def fixed_clock() -> float:
    """A frozen clock, so the whole walk sees one view and can be compared with it exactly."""
    return EVENING_S


def specs_for(vendor: str) -> list[ApSpec]:
    return [
        ApSpec(f"{vendor}-v2c", vendor, 21),
        ApSpec(f"{vendor}-v3", vendor, 22, community=None, v3=USER),
        ApSpec(f"{vendor}-v3a", vendor, 23, community=None, v3=AUTH_ONLY),
        ApSpec(f"{vendor}-v3n", vendor, 24, community=None, v3=NO_AUTH),
    ]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_snmpbulkwalk_walks_every_profile_v2c_and_v3(vendor: str) -> None:
    async with run_fleet(specs_for(vendor), clock=fixed_clock) as aps:
        for ap in aps:
            run = await run_tool("snmpbulkwalk", ap, credentials(ap), ".1")
            assert run.returncode == 0, run.stderr
            assert run.stderr == ""
            rows = run.rows
            oids = [oid for oid, _, _ in rows]
            assert all(before < after for before, after in itertools.pairwise(oids))
            # the walk is the whole view: the same OIDs, each with the type it was served as
            truth = ap.truth()
            texts = [".".join(map(str, oid)) for oid in oids]
            assert texts == list(truth.values)
            for text, (_, type_name, _) in zip(texts, rows, strict=True):
                assert type_name in NET_SNMP_TYPES[truth.values[text][0]], text
            for prefix in MUST_HAVE[vendor]:
                assert any(text.startswith(prefix + ".") for text in texts), prefix
            has_if_mib = any(text.startswith("1.3.6.1.2.1.2.2.1.") for text in texts)
            assert has_if_mib == (vendor != "unifi")
            assert ap.stats.responses > 0


async def test_snmpget_types_and_exceptions() -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 1)]) as (ap,):
        run = await run_tool(
            "snmpget",
            ap,
            credentials(ap),
            "1.3.6.1.2.1.1.2.0",
            "1.3.6.1.2.1.31.1.1.1.6.1",
            "1.3.6.1.2.1.1.5",
            "1.3.6.1.2.1.1.99.0",
        )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == ".1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.14988.1"
    assert lines[1].startswith(".1.3.6.1.2.1.31.1.1.1.6.1 = Counter64: ")
    assert "No Such Instance" in lines[2]
    assert "No Such Object" in lines[3]


async def test_getnext_past_the_end_is_end_of_mib_view() -> None:
    async with run_fleet([ApSpec("g", "generic", 1)]) as (ap,):
        last = ".".join(map(str, ap.model.view(ap.model.clock()).oids[-1]))
        run = await run_tool("snmpgetnext", ap, credentials(ap), last)
    assert "No more variables left in this MIB View" in run.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"-A": "wrong-password"}, "Authentication failure"),
        ({"-X": "wrong-privkey"}, "Decryption error"),
        ({"-u": "intruder"}, "Unknown user name"),
        ({"-l": "authNoPriv"}, "Unsupported security level"),
    ],
)
async def test_wrong_v3_credentials_get_the_agent_reports(change: dict[str, str], message: str) -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 1, community=None, v3=USER)]) as (ap,):
        args = credentials(ap)
        for flag, value in change.items():
            args[args.index(flag) + 1] = value
        if change.get("-l") == "authNoPriv":
            args = args[: args.index("-x")]
        run = await run_tool("snmpget", ap, args, "1.3.6.1.2.1.1.5.0")
    assert run.returncode != 0
    assert message in run.stderr
    assert ap.stats.reports >= 2  # discovery, then the refusal


async def test_v2c_with_wrong_community_times_out_silently() -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 1)]) as (ap,):
        run = await run_tool("snmpget", ap, ["-v2c", "-c", "private"], "1.3.6.1.2.1.1.5.0", timeout_s=0.3)
    assert run.returncode != 0 and "Timeout" in run.stderr
    assert ap.stats.responses == 0 and ap.stats.dropped_silently == 1


async def test_a_v2c_only_ap_answers_v3_discovery_like_snmpd() -> None:
    """snmpd answers engine discovery (RFC 3414 §4) with no v3 user configured, then refuses the user:
    how a prober tells a wrong community from a silent host."""
    async with run_fleet([ApSpec("m", "mikrotik", 1)]) as (ap,):
        args = ["-v3", "-l", "noAuthNoPriv", "-u", "anyone"]
        run = await run_tool("snmpget", ap, args, "1.3.6.1.2.1.1.5.0")
        assert ap.agent.v3.usm_counters[UNKNOWN_ENGINE_IDS] == 1
        assert ap.agent.v3.usm_counters[UNKNOWN_USER_NAMES] == 1
    assert run.returncode != 0 and "Unknown user name" in run.stderr
    assert ap.stats.responses == 0 and ap.stats.reports == 2


async def test_set_is_refused_as_not_writable() -> None:
    async with run_fleet([ApSpec("m", "mikrotik", 1)]) as (ap,):
        run = await run_tool("snmpset", ap, credentials(ap), "1.3.6.1.2.1.1.5.0", "s", "hijacked")
        after = await run_tool("snmpget", ap, credentials(ap), "1.3.6.1.2.1.1.5.0")
    assert run.returncode != 0 and "notWritable" in run.stderr
    assert '"m"' in after.stdout
