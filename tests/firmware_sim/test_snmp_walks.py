"""Each profile against the walk recorded from the real device: same subtrees, columns, index shapes, types.

A region a profile claims (a table entry or a scalar) must serve every column the real device served
there, with the same SNMP type and the same number of index sub-identifiers. The walks live beside the
repo in ../shared/device-walks; the test is skipped where that folder is absent.
"""

from __future__ import annotations

import pytest

from edge_gateway_dev.sim.snmp import ApModel, ApSpec
from tests.collectors.snmp.walks import WALKS_ABSENT
from tests.collectors.snmp.walks import WALKS_DIR as WALKS

EVENING_S = 1_795_438_800.0  # 2026-11-23 20:00 WIB: clients on every radio
SNMPREC_TYPES = {
    "2": "INTEGER",
    "4": "OCTET STRING",
    "4x": "OCTET STRING",
    "6": "OBJECT IDENTIFIER",
    "64": "IpAddress",
    "65": "Counter32",
    "66": "Gauge32",
    "67": "TimeTicks",
    "70": "Counter64",
}
SYSTEM = [f"1.3.6.1.2.1.1.{n}.0" for n in range(1, 7)]
IF_MIB_AND_HR = ["1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1", "1.3.6.1.2.1.25.2.3.1", "1.3.6.1.2.1.25.3.3.1"]
# vendor -> (walk file, table entries claimed, scalars claimed)
CLAIMS: dict[str, tuple[str, list[str], list[str]]] = {
    "mikrotik": (
        "mikrotik-hap-ac-lite-ros6.40.snmprec",
        [
            *IF_MIB_AND_HR,
            "1.3.6.1.2.1.25.3.2.1",
            "1.3.6.1.4.1.14988.1.1.1.2.1",
            "1.3.6.1.4.1.14988.1.1.1.3.1",
        ],
        [
            *SYSTEM,
            "1.3.6.1.2.1.25.1.1.0",
            "1.3.6.1.4.1.14988.1.1.3.8.0",
            "1.3.6.1.4.1.14988.1.1.3.10.0",
            "1.3.6.1.4.1.14988.1.1.4.4.0",
            "1.3.6.1.4.1.14988.1.1.6.1.0",
            "1.3.6.1.4.1.14988.1.1.7.3.0",
        ],
    ),
    "unifi": (
        "unifi-uap.snmprec",
        [
            "1.2.840.10036.3.1.2.1",
            "1.3.6.1.4.1.10002.1.1.1.4.2.1",
            "1.3.6.1.4.1.41112.1.6.1.1.1",
            "1.3.6.1.4.1.41112.1.6.1.2.1",
        ],
        [
            *SYSTEM,
            "1.3.6.1.2.1.25.1.1.0",
            *(f"1.3.6.1.4.1.10002.1.1.1.1.{n}.0" for n in range(1, 5)),
            "1.3.6.1.4.1.10002.1.1.1.2.1.0",
            "1.3.6.1.4.1.10002.1.1.1.2.2.0",
            "1.3.6.1.4.1.10002.1.1.1.4.1.0",
            "1.3.6.1.6.3.10.2.1.3.0",
        ],
    ),
    "airmax": (
        "ubnt-rocket-prism-5ac.snmprec",
        [
            "1.2.840.10036.3.1.2.1",
            "1.3.6.1.4.1.41112.1.4.1.1",
            "1.3.6.1.4.1.41112.1.4.2.1",
            "1.3.6.1.4.1.41112.1.4.5.1",
            "1.3.6.1.4.1.41112.1.4.6.1",
        ],
        [
            *SYSTEM,
            "1.3.6.1.4.1.41112.1.4.8.3.0",
            "1.3.6.1.4.1.41112.1.4.8.4.0",
            "1.3.6.1.4.1.41112.1.4.9.2.0",
        ],
    ),
    # No walk of a generic AP: its standard MIBs are held to the shapes the RouterOS walk shows.
    "generic": ("mikrotik-hap-ac-lite-ros6.40.snmprec", IF_MIB_AND_HR, SYSTEM),
}

pytestmark = pytest.mark.skipif(not WALKS.is_dir(), reason=WALKS_ABSENT)


def recorded(file_name: str) -> dict[str, str]:
    out = {}
    for line in (WALKS / file_name).read_text().splitlines():
        oid, kind, _ = line.split("|", 2)
        out[oid] = SNMPREC_TYPES[kind]
    return out


def shape(oid: str, entries: list[str], scalars: list[str]) -> tuple[str, int] | None:
    """(column, number of index sub-ids) of an OID inside a claimed region, or None outside them all."""
    if oid in scalars:
        return oid.rsplit(".", 1)[0], 1
    for entry in entries:
        if oid.startswith(entry + "."):
            column_arcs = entry.count(".") + 2
            arcs = oid.split(".")
            return ".".join(arcs[:column_arcs]), len(arcs) - column_arcs
    return None


@pytest.mark.parametrize("vendor", list(CLAIMS))
def test_profile_serves_the_recorded_columns_with_the_recorded_types(vendor: str) -> None:
    file_name, entries, scalars = CLAIMS[vendor]
    walk = recorded(file_name)
    served = ApModel(ApSpec("ap", vendor, 17), lambda: EVENING_S).truth().values
    served_shapes: dict[tuple[str, int], set[str]] = {}
    for oid, (type_name, _) in served.items():
        key = shape(oid, entries, scalars)
        if key is not None:
            served_shapes.setdefault(key, set()).add(type_name)
    compared = 0
    for oid, type_name in walk.items():
        key = shape(oid, entries, scalars)
        if key is None:
            continue
        compared += 1
        assert key in served_shapes, f"{vendor}: nothing served like {oid} (column, index length {key})"
        assert served_shapes[key] == {type_name}, (
            f"{vendor}: {oid} is {type_name}, served {served_shapes[key]}"
        )
    assert compared >= 20


@pytest.mark.parametrize("vendor", ["mikrotik", "unifi", "airmax"])
def test_sys_object_id_is_the_recorded_one(vendor: str) -> None:
    walk_line = next(
        line
        for line in (WALKS / CLAIMS[vendor][0]).read_text().splitlines()
        if line.startswith("1.3.6.1.2.1.1.2.0|")
    )
    served = ApModel(ApSpec("ap", vendor, 1), lambda: EVENING_S).truth().values["1.3.6.1.2.1.1.2.0"][1]
    assert ".".join(map(str, served)) == walk_line.rsplit("|", 1)[1]  # type: ignore[call-overload]


def test_unifi_has_no_if_mib_like_the_real_one() -> None:
    walk = recorded("unifi-uap.snmprec")
    served = ApModel(ApSpec("ap", "unifi", 1), lambda: EVENING_S).truth().values
    for prefix in ("1.3.6.1.2.1.2.", "1.3.6.1.2.1.31."):
        assert not any(oid.startswith(prefix) for oid in walk)
        assert not any(oid.startswith(prefix) for oid in served)


def test_unifi_serves_no_cpu_percentage_like_the_real_one() -> None:
    """The recorded UAP has no hrProcessorTable and UBNT-UniFi-MIB no CPU object, only FROGFOOT load
    averages: the simulated one serves none either, and its ground truth says so (no `cpu_pct`)."""
    walk = recorded("unifi-uap.snmprec")
    truth = ApModel(ApSpec("ap", "unifi", 1), lambda: EVENING_S).truth()
    for oids in (walk, truth.values):
        assert not any(oid.startswith("1.3.6.1.2.1.25.3.3.") for oid in oids)  # hrProcessorLoad
        assert "1.3.6.1.4.1.10002.1.1.1.4.2.1.3.1" in oids  # FROGFOOT loadValue, 1 minute
    assert truth.summary.cpu_pct is None
