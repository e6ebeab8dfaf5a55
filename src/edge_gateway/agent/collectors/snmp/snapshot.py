"""What one poll brings back from a device: its identity, clock, scalars and the needed columns.

Fetching is kept apart from turning values into readings (`readings.py`), so the mapping is tested
without a network and both backends share it. Only what the profile needs is asked for: one GETBULK
walk per table (its first column, which gives the rows), then GETs of the other columns at those rows;
a field's fallback column (ifInOctets for ifHCInOctets) only when the main one answered nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from edge_gateway.agent.collectors.snmp.backend import Value
from edge_gateway.agent.collectors.snmp.profile import INDEX_PARTS, Profile, Table, candidates
from edge_gateway.agent.collectors.snmp.walk import Index, Link, WalkError
from edge_gateway.core import schema

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
HR_SYSTEM_UPTIME = "1.3.6.1.2.1.25.1.1.0"  # HOST-RESOURCES-MIB hrSystemUptime: the host's, not the agent's


@dataclass(slots=True)
class Snapshot:
    sys_object_id: str
    uptime_s: float
    scalars: dict[str, Value]
    columns: dict[str, dict[Index, Value]]
    model: str = ""
    time_ns: int = field(default_factory=time.time_ns)
    time_s: float = field(default_factory=time.monotonic)
    problems: list[str] = field(default_factory=list)
    failed_walks: set[str] = field(default_factory=set)  # columns whose walk broke: unknown, not empty
    uptime_known: bool = True  # False: the agent answered but told no uptime (sysUpTime nor hrSystemUptime)


def text_of(value: Value) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace").strip("\x00").strip()
    return "" if value is None else str(value).strip()


async def identify(link: Link, profiles: dict[str, Profile]) -> Profile:
    """The best profile for a device: its sysObjectID and sysDescr narrow the list, the probe column
    decides (an OpenWrt box is a net-snmp Linux agent by sysObjectID, told apart by its sysDescr)."""
    answer = await link.get([SYS_OBJECT_ID, SYS_DESCR])
    found = candidates(profiles, text_of(answer.get(SYS_OBJECT_ID)), text_of(answer.get(SYS_DESCR)))
    for profile in found:
        if not profile.probe:
            return profile
        try:
            if await link.walk(profile.probe):
                return profile
        except WalkError:
            continue
    return profiles["generic"]


def split_index(key: Index, parts: tuple[str, ...]) -> dict[str, Index] | None:
    """Named parts of a row index: `mac` takes 6 sub-identifiers, the last part takes the rest."""
    named, position = {}, 0
    for number, name in enumerate(parts):
        width = INDEX_PARTS.get(name, 1)
        if number == len(parts) - 1 and name not in INDEX_PARTS:
            width = len(key) - position
        if width <= 0 or position + width > len(key):
            return None
        named[name], position = key[position : position + width], position + width
    return named if position == len(key) else None


async def _walk_table(link: Link, table: Table, snapshot: Snapshot) -> None:
    """Walk the table's first field column (or its fallback) to learn its rows, then GET every other
    column at those rows, many columns per request: a table of 4 radios x 7 columns is one walk and
    two GETs, not seven walks. A table whose first column has no rows costs that one walk only (a
    device without IF-MIB, a RouterOS 6 box asked for RouterOS 7 tables)."""
    first = table.fields[0]
    rows = await _walk(link, first.oid, snapshot)
    if not rows and first.fallback:
        rows = await _walk(link, first.fallback.oid, snapshot)
    if not rows:
        return
    wanted: list[tuple[str, Index]] = []
    fallbacks: list[tuple[str, str, list[Index]]] = []
    parts = [split_index(key, table.index) for key in rows]
    for spec in table.fields[1:]:
        wanted += [(spec.oid, key) for key in rows]
        if spec.fallback:
            fallbacks.append((spec.oid, spec.fallback.oid, list(rows)))
    for source in table.tags.values():
        if source.oid:
            keys = sorted({p[source.part] for p in parts if p}) if source.part else list(rows)
            wanted += [(source.oid, key) for key in keys]
            if source.fallback:
                fallbacks.append((source.oid, source.fallback, keys))
    for extra in (table.discontinuity, table.where[0] if table.where else ""):
        if extra:
            wanted += [(extra, key) for key in rows]
    await _get_cells(link, wanted, snapshot)
    missing = [
        (fallback, key) for main, fallback, keys in fallbacks if not snapshot.columns[main] for key in keys
    ]
    await _get_cells(link, missing, snapshot)


async def _get_cells(link: Link, cells: list[tuple[str, Index]], snapshot: Snapshot) -> None:
    """GET the (column, row) cells not fetched yet this poll; every column asked ends up in
    `snapshot.columns`, empty when the device has none of its cells."""
    todo = [(c, k) for c, k in dict.fromkeys(cells) if k not in snapshot.columns.get(c, {})]
    for column, _ in todo:
        snapshot.columns.setdefault(column, {})
    oids = {f"{column}.{'.'.join(map(str, key))}": (column, key) for column, key in todo}
    for oid, value in (await link.get(list(oids))).items():
        if oid in oids:
            column, key = oids[oid]
            snapshot.columns[column][key] = value


async def fetch(link: Link, profile: Profile, clients: bool, model: str) -> Snapshot:
    """One poll. `model` is what an earlier poll found (empty: look it up this time)."""
    scalar_oids = [SYS_UPTIME, HR_SYSTEM_UPTIME, SYS_OBJECT_ID, *(s.oid for s in profile.scalars)]
    if not model:
        scalar_oids += profile.model_oids
    scalars = await link.get(scalar_oids)
    if not scalars:
        raise WalkError("no answer: not an SNMP agent that answers this community or user")
    # An agent without sysUpTime (some OpenWrt builds) is still up: the host's uptime, else unknown.
    raw_uptime = next(
        (scalars[o] for o in (SYS_UPTIME, HR_SYSTEM_UPTIME) if isinstance(scalars.get(o), int)), None
    )
    snapshot = Snapshot(
        sys_object_id=text_of(scalars.get(SYS_OBJECT_ID)),
        uptime_s=float(raw_uptime) / 100 if isinstance(raw_uptime, int) else 0.0,
        uptime_known=isinstance(raw_uptime, int),
        scalars=scalars,
        columns={},
        model=model or next((text_of(scalars[o]) for o in profile.model_oids if text_of(scalars.get(o))), ""),
    )
    for table in profile.tables:
        if table.measurement != schema.AP_CLIENT or clients:
            await _walk_table(link, table, snapshot)
    if not snapshot.model and profile.model_column:
        rows = await _walk(link, profile.model_column, snapshot)
        snapshot.model = next((text_of(v) for v in rows.values() if text_of(v)), "")
    snapshot.time_s, snapshot.time_ns = time.monotonic(), time.time_ns()
    return snapshot


async def _walk(link: Link, column: str, snapshot: Snapshot) -> dict[Index, Value]:
    if column not in snapshot.columns:
        try:
            snapshot.columns[column] = await link.walk(column)
        except WalkError as exc:
            snapshot.problems.append(str(exc))
            snapshot.failed_walks.add(column)
            snapshot.columns[column] = {}
    return snapshot.columns[column]
