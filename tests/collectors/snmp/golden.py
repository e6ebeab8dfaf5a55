"""SNMP golden cases: a device walk in, the readings of one poll out (Telegraf `testcases/` style).

Each case is a folder `cases/<profile>/<case>/` holding `walk.snmprec` (what the device answers, snmpsim
format) and `expected.lp` (the line protocol one poll gives, sorted). A profile change shows its effect
in review as a change of `expected.lp`. The walks are made from the simulators at a fixed simulated
instant; the recorded walks of real devices stay outside the tree (../shared/device-walks), only their
expected readings are here, under `cases/recorded/`.

Regenerate after a deliberate change: `.venv/bin/python -m tests.collectors.snmp.golden` (rewrites the
simulated walks and every expected.lp; review the diff).
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

from edge_gateway.agent.collectors.snmp.backend import Value
from edge_gateway.agent.collectors.snmp.privacy import ClientHasher
from edge_gateway.agent.collectors.snmp.profile import Profile, load_profiles
from edge_gateway.agent.collectors.snmp.readings import build
from edge_gateway.agent.collectors.snmp.snapshot import fetch, identify
from edge_gateway.agent.collectors.snmp.walk import Link
from edge_gateway.core.lineproto import encode_many
from edge_gateway_dev.sim.clock import parse_instant
from edge_gateway_dev.sim.snmp.ber import (
    COUNTER32,
    COUNTER64,
    GAUGE32,
    INTEGER,
    IP_ADDRESS,
    OBJECT_ID,
    TIMETICKS,
)
from edge_gateway_dev.sim.snmp.model import ApModel
from edge_gateway_dev.sim.snmp.spec import ApSpec
from tests.collectors.snmp.fakes import FakeBackend, FakeDevice
from tests.collectors.snmp.walks import WALKS_DIR, parse_value

CASES_DIR = Path(__file__).parent / "cases"
RECORDED = "recorded"
INSTANT = "2026-11-23T20:00:00+07:00"  # a busy evening hour of the daily curve
TIME_NS = 1_795_438_800_000_000_000  # the same instant, stamped on every reading
HASH_KEY = b"golden-case-client-hash-key"
# Simulated vendor -> the case made from it; the case folder is named after the profile that fits.
SIMULATED = {
    "mikrotik": 21,
    "mikrotik-capsman": 22,
    "mikrotik-ros7": 23,
    "unifi": 24,
    "airmax": 25,
    "generic": 26,
    "cambium-pmp450": 27,
    "cambium-epmp": 28,
    "ruckus-zd": 29,
    "ruckus-smartzone": 30,
    "ruckus-unleashed": 31,
    "huawei-ac": 32,
    "openwrt": 33,
    "tplink-eap": 34,
    "ruijie-ac": 35,
    "hikvision": 36,
}
_SNMPREC_TYPES = {INTEGER: "2", OBJECT_ID: "6", IP_ADDRESS: "64", COUNTER32: "65", GAUGE32: "66"}
_SNMPREC_TYPES |= {TIMETICKS: "67", COUNTER64: "70"}


def snmprec_line(oid: str, tag: int, value: object) -> str:
    if tag == IP_ADDRESS and isinstance(value, bytes | tuple):
        return f"{oid}|64|{ipaddress.IPv4Address(bytes(value))}"
    if isinstance(value, bytes):
        printable = all(32 <= byte < 127 for byte in value) and b"|" not in value
        return f"{oid}|4|{value.decode()}" if printable else f"{oid}|4x|{value.hex()}"
    if tag == OBJECT_ID and isinstance(value, tuple):
        return f"{oid}|6|{'.'.join(map(str, value))}"
    return f"{oid}|{_SNMPREC_TYPES[tag]}|{value}"


def simulated_walk(vendor: str) -> str:
    """The whole MIB view of a simulated AP of `vendor` at INSTANT, as snmprec text."""
    instant_s = parse_instant(INSTANT)
    model = ApModel(ApSpec(f"golden-{vendor}", vendor, SIMULATED[vendor]), clock=lambda: instant_s)
    view = model.view(instant_s)
    lines = [
        snmprec_line(".".join(map(str, oid)), tag, value)
        for oid, tag, value in zip(view.oids, view.tags, view.values, strict=True)
    ]
    return "\n".join(lines) + "\n"


def read_snmprec(path: Path) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            oid, kind, text = line.split("|", 2)
            values[oid.lstrip(".")] = parse_value(kind, text)
    return values


async def _poll(values: dict[str, Value], profiles: dict[str, Profile], device: str) -> tuple[str, list[str]]:
    link = Link(FakeBackend(FakeDevice(values)), 24, 1000, 0)
    profile = await identify(link, profiles)
    snapshot = await fetch(link, profile, clients=True, model="")
    snapshot.time_ns = TIME_NS
    tags = {"device": device, "site": "golden"}
    readings, _ = build(profile, snapshot, tags, True, ClientHasher(HASH_KEY), {})
    return profile.name, sorted(encode_many(readings))


def poll_walk(values: dict[str, Value], device: str) -> tuple[str, list[str]]:
    """(the profile `auto` picks, the sorted line protocol of one poll) for a device answering `values`."""
    return asyncio.run(_poll(values, load_profiles(), device))


def case_dirs() -> list[Path]:
    """Every case folder with an expected.lp, simulated and recorded."""
    return sorted(path.parent for path in CASES_DIR.glob("*/*/expected.lp"))


def walk_of(case: Path) -> Path:
    """A simulated case's walk is beside it; a recorded one's is in the walks folder outside the tree."""
    if case.parent.name == RECORDED:
        return WALKS_DIR / f"{case.name}.snmprec"
    return case / "walk.snmprec"


def regenerate() -> None:
    for vendor in SIMULATED:
        walk = simulated_walk(vendor)
        scratch = CASES_DIR / "_scratch.snmprec"
        scratch.write_text(walk)
        profile, _ = poll_walk(read_snmprec(scratch), vendor)
        scratch.unlink()
        case = CASES_DIR / profile / f"sim-{vendor}"
        case.mkdir(parents=True, exist_ok=True)
        (case / "walk.snmprec").write_text(walk)
    if WALKS_DIR.is_dir():
        for path in sorted(WALKS_DIR.glob("*.snmprec")):
            (CASES_DIR / RECORDED / path.stem).mkdir(parents=True, exist_ok=True)
    for case in case_dirs() + sorted(p.parent for p in CASES_DIR.glob("*/*/walk.snmprec")):
        walk_path = walk_of(case)
        if walk_path.exists():
            profile, lines = poll_walk(read_snmprec(walk_path), case.name)
            (case / "profile").write_text(profile + "\n")
            (case / "expected.lp").write_text("\n".join(lines) + "\n")
    for case in sorted((CASES_DIR / RECORDED).glob("*")) if (CASES_DIR / RECORDED).is_dir() else []:
        if walk_of(case).exists() and not (case / "expected.lp").exists():
            profile, lines = poll_walk(read_snmprec(walk_of(case)), case.name)
            (case / "profile").write_text(profile + "\n")
            (case / "expected.lp").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    regenerate()
