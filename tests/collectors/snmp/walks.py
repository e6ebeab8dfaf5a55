"""The recorded device walks (/work/shared/device-walks) as fake devices, for offline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.agent.collectors.snmp.backend import Value

WALKS_DIR = Path(__file__).resolve().parents[4] / "shared" / "device-walks"
# The walks are recorded from real devices and kept beside the repository, not in it: a clone made
# elsewhere has none, and the tests that replay them skip, saying so in `make test`'s summary.
WALKS_ABSENT = f"recorded device walks absent: no {WALKS_DIR} (../shared/device-walks beside the clone)"
MIKROTIK, UNIFI, AIRMAX = "mikrotik-hap-ac-lite-ros6.40", "unifi-uap", "ubnt-rocket-prism-5ac"


def walk_path(name: str) -> Path:
    """The walk's file; the test skips where the walks are absent, and fails where one of them is."""
    if not WALKS_DIR.is_dir():
        pytest.skip(WALKS_ABSENT)
    return WALKS_DIR / f"{name}.snmprec"


def parse_value(kind: str, text: str) -> Value:
    if kind == "4x":
        return bytes.fromhex(text)
    if kind == "4":
        return text.encode()
    if kind in ("6", "64"):
        return text
    return int(text)


def load_walk(name: str) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for line in walk_path(name).read_text().splitlines():
        oid, kind, text = line.split("|", 2)
        values[oid] = parse_value(kind, text)
    return values


def mac_forms(octets: tuple[int, ...]) -> list[str]:
    """Ways a raw MAC could leak into text: dotted index, colon hex, bare hex (both cases)."""
    hexes = [f"{octet:02x}" for octet in octets]
    forms = [".".join(map(str, octets)), ":".join(hexes), "".join(hexes), "-".join(hexes)]
    return forms + [form.upper() for form in forms[1:]]
