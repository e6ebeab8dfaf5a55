"""A poll's snapshot becomes readings, following the profile: `ap`, `ap_radio`, `ap_iface`, `ap_client`.

Pure: the same snapshot and counter state give the same readings, so the whole mapping is tested
without a device. Counter state (the previous sample of every counter with a rate) is passed in and
replaced, keyed by table, field and row index, and forgotten for rows that went away.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from edge_gateway.agent.collectors.snmp.backend import Value
from edge_gateway.agent.collectors.snmp.counters import Sample, bits_of, rate_per_s
from edge_gateway.agent.collectors.snmp.expr import evaluate
from edge_gateway.agent.collectors.snmp.privacy import ClientHasher
from edge_gateway.agent.collectors.snmp.profile import INTEGER_KINDS, OidField, Profile, Table, TagSource
from edge_gateway.agent.collectors.snmp.snapshot import Snapshot, split_index, text_of
from edge_gateway.agent.collectors.snmp.walk import Index
from edge_gateway.core import schema
from edge_gateway.core.model import FieldValue, Reading

CounterState = dict[tuple[str, str, Index], Sample]
Row = dict[str, FieldValue]


@dataclass(slots=True)
class Context:
    snapshot: Snapshot
    previous: CounterState
    state: CounterState = field(default_factory=dict)


_NUMBER_WITH_UNIT = re.compile(r"(\S+?)(?:\s*(?:%|[A-Za-z]+))?")


def convert(spec: OidField, raw: Value) -> FieldValue | None:
    """One SNMP value as a field value, per the field's kind; None when absent or meaningless.

    The kind fixes the type, so a field never changes type between devices or polls (InfluxDB refuses
    a field whose type changes): `gauge` is a float, `integer`, counters and `timeticks` (seconds)
    are integers, `truth` a bool, `text` a string."""
    if spec.kind == "text":
        return text_of(raw) or None
    if spec.parse_text:
        raw = number_in(text_of(raw))
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        return None
    if spec.kind == "truth":
        return raw == 1
    if spec.zero_absent and raw == 0:
        return None
    if spec.kind == "timeticks":
        return int(raw // 100)
    if spec.kind in INTEGER_KINDS:
        return int(raw) if spec.scale == 1.0 else round(raw * spec.scale)
    return round(float(raw) * spec.scale, 6)


def number_in(text: str) -> float | None:
    """The number a script or a text object holds (`7`, `-95`, `5180.0`), also before one unit word as
    Hikvision's HIK-DEVICE-MIB writes them (`15 PERCENT`, `512 MB`); None for anything else."""
    found = _NUMBER_WITH_UNIT.fullmatch(text.strip())
    if found is None:
        return None
    try:
        value = float(found[1])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _column(snapshot: Snapshot, spec: OidField) -> tuple[OidField, Mapping[Index, Value]]:
    main = snapshot.columns.get(spec.oid, {})
    if not main and spec.fallback:
        return spec.fallback, snapshot.columns.get(spec.fallback.oid, {})
    return spec, main


def _tag(source: TagSource, row: Index, parts: dict[str, Index], snapshot: Snapshot) -> str:
    key = parts[source.part] if source.part else row
    if not source.oid:
        value = "".join(map(chr, key[1:])) if source.text and key else ".".join(map(str, key))
    else:
        value = text_of(snapshot.columns.get(source.oid, {}).get(key))
    if not value and source.fallback:
        value = text_of(snapshot.columns.get(source.fallback, {}).get(key))
    if source.pattern:
        found = re.search(source.pattern, value)
        return found.group(1) if found else ""
    return value


def _rate(
    table: Table, used: OidField, spec: OidField, row: Index, raw: int, fields: Row, ctx: Context
) -> None:
    snapshot = ctx.snapshot
    discontinuity = snapshot.columns.get(table.discontinuity, {}).get(row, 0) if table.discontinuity else 0
    sample = Sample(raw, snapshot.time_s, snapshot.uptime_s, int(discontinuity or 0))
    key = (table.name, spec.name, row)
    ctx.state[key], previous = sample, ctx.previous.get(key)
    if previous is None:
        return
    speed = fields.get(table.speed_field) if table.speed_field else None
    max_rate = float(speed) * 1_000_000 if isinstance(speed, int | float) and speed > 0 else None
    rate = rate_per_s(previous, sample, bits_of(used.kind), spec.rate_scale, max_rate)
    if rate is not None:
        fields[spec.rate] = round(rate, 1)


def table_rows(table: Table, ctx: Context, hasher: ClientHasher | None) -> list[tuple[dict[str, str], Row]]:
    """(tags, fields) of every row; fields include `_` inputs, which callers drop before writing."""
    snapshot = ctx.snapshot
    columns = [_column(snapshot, spec) for spec in table.fields]
    keys = sorted({key for _, column in columns for key in column})
    if table.where:
        wanted, filter_column = table.where[1].lstrip("."), snapshot.columns.get(table.where[0], {})
        keys = [key for key in keys if text_of(filter_column.get(key)).lstrip(".") == wanted]
    rows = []
    for row in keys:
        parts = split_index(row, table.index)
        if parts is None:
            continue
        tags = {name: _tag(source, row, parts, snapshot) for name, source in table.tags.items()}
        if any(source.pattern and not tags[name] for name, source in table.tags.items()):
            continue  # not a row of this table (an extend script of another kind)
        for name, source in table.tags.items():
            if source.prefix and tags[name]:
                tags[name] = f"{tags[source.prefix]}/{tags[name]}"
        if table.client:
            if hasher is None:
                continue
            try:
                tags["client"] = hasher.hash_index(parts[table.client])
            except ValueError:
                continue
        fields: Row = {}
        for spec, (used, column) in zip(table.fields, columns, strict=True):
            value = convert(used, column.get(row))
            if value is not None:
                fields[spec.name] = value
        for spec, (used, column) in zip(table.fields, columns, strict=True):
            raw = column.get(row)
            if spec.rate and isinstance(raw, int):
                _rate(table, used, spec, row, raw, fields, ctx)
        rows.append(({k: v for k, v in tags.items() if v}, fields))
    return rows


def _combine(how: str, values: list[float]) -> float:
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    total = sum(values)
    return total / len(values) if how == "avg" else total


def _numbers(rows: list[tuple[dict[str, str], Row]], name: str) -> list[float]:
    return [float(f[name]) for _, f in rows if isinstance(f.get(name), int | float)]


def group_rows(table: Table, rows: list[tuple[dict[str, str], Row]]) -> list[tuple[dict[str, str], Row]]:
    """Rows with the same tags become one (UniFi: the VAPs of one radio), fields combined per spec.

    A field of an integer kind stays an integer even when averaged (MikroTik: a radio's rate is the mean
    of its clients' rates), so the series keeps the type the schema gives it."""
    groups: dict[tuple[tuple[str, str], ...], list[tuple[dict[str, str], Row]]] = {}
    for tags, fields in rows:
        groups.setdefault(tuple(sorted(tags.items())), []).append((tags, fields))
    combined = []
    for members in groups.values():
        combined_fields: Row = {}
        for spec in table.fields:
            values = _numbers(members, spec.name)
            if values:
                total = _combine(spec.combine, values)
                combined_fields[spec.name] = round(total) if spec.kind in INTEGER_KINDS else total
        if table.count_field:
            combined_fields[table.count_field] = len(members)
        combined.append((members[0][0], combined_fields))
    return combined


def _walk_failed(table: Table, snapshot: Snapshot) -> bool:
    first = table.fields[0]
    return first.oid in snapshot.failed_walks or bool(
        first.fallback and first.fallback.oid in snapshot.failed_walks
    )


def totals(
    table: Table, rows: list[tuple[dict[str, str], Row]], snapshot: Snapshot
) -> dict[str, float | int]:
    """The table's contributions to `ap`: counts and sums of integers are integers, the rest floats.

    Zero is a value: an empty table (an AP with no clients, no hotspot users) counts and sums to 0.
    An average, maximum or minimum of nothing is undefined and stays out, and so does every total of a
    table whose walk broke (docs/schema.md, "Absent fields")."""
    out: dict[str, float | int] = {}
    kinds = {spec.name: spec.kind for spec in table.fields}
    if not rows:
        if _walk_failed(table, snapshot):
            return out
        for name, how in table.totals.items():
            op, _, source = how.partition(":")
            if op == "count" or (op == "sum" and kinds[source] in INTEGER_KINDS):
                out[name] = 0
            elif op == "sum":
                out[name] = 0.0
        return out
    for name, how in table.totals.items():
        op, _, source = how.partition(":")
        if op == "count":
            out[name] = len(rows)
        elif values := _numbers(rows, source):
            total = _combine(op, values)
            out[name] = round(total) if kinds[source] in INTEGER_KINDS and op != "avg" else total
    return out


def _public(fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    return {name: value for name, value in fields.items() if not name.startswith("_")}


MergeKey = tuple[str, tuple[tuple[str, str], ...]]


def _fold_subsets(merged: dict[MergeKey, dict[str, FieldValue]]) -> None:
    """A point whose tags are a subset of exactly one other point's (airMAX: the radio table has no
    `ssid`, the wireless table has) is the same thing seen from another table: fold it in."""
    for key in sorted(merged, key=lambda k: len(k[1])):
        measurement, tags = key
        wider = [
            other
            for other in merged
            if other[0] == measurement and len(other[1]) > len(tags) and set(tags) <= set(other[1])
        ]
        if len(wider) == 1:
            for name, value in merged.pop(key).items():
                merged[wider[0]].setdefault(name, value)


def _with_role(profile: Profile, tags: dict[str, str]) -> dict[str, str]:
    """An interface's tags, with `role = uplink` when the profile says it is the AP's uplink."""
    if profile.uplink_ifname and re.search(profile.uplink_ifname, tags.get("ifname", "")):
        return {**tags, "role": "uplink"}
    return tags


def build(
    profile: Profile,
    snapshot: Snapshot,
    base_tags: Mapping[str, str],
    clients: bool,
    hasher: ClientHasher | None,
    previous: CounterState,
) -> tuple[list[Reading], CounterState]:
    """Readings of one poll and the counter state for the next one."""
    ctx = Context(snapshot, previous)
    ap_values: dict[str, float | int] = {}
    ap_fields: dict[str, FieldValue] = {"up": True}
    if snapshot.uptime_known:  # an agent without sysUpTime and hrSystemUptime is up, its uptime unknown
        ap_fields["uptime_s"] = int(snapshot.uptime_s)
    for spec in profile.scalars:
        value = convert(spec, snapshot.scalars.get(spec.oid))
        if value is None:
            continue
        ap_fields[spec.name] = value
        if isinstance(value, int | float) and not isinstance(value, bool):
            ap_values[spec.name] = value
    merged: dict[MergeKey, dict[str, FieldValue]] = {}
    for table in profile.tables:
        if table.measurement == schema.AP_CLIENT and not clients:
            continue
        rows = table_rows(table, ctx, hasher)
        for name, value in totals(table, rows, snapshot).items():
            ap_values[name] = ap_values[name] + value if name in ap_values else value
        if table.group:
            rows = group_rows(table, rows)
        if not table.measurement:
            continue
        for tags, fields in rows:
            public = _public(fields)
            if public:
                if table.measurement == schema.AP_IFACE:
                    tags = _with_role(profile, tags)
                key = (table.measurement, tuple(sorted({**base_tags, **tags}.items())))
                merged.setdefault(key, {}).update(public)
    _fold_subsets(merged)
    for name, value in ap_values.items():
        ap_fields.setdefault(name, round(value, 3) if isinstance(value, float) else value)
    for name, expression in profile.derived.items():
        result = evaluate(expression, ap_values)
        if result is not None:
            ap_fields[name] = round(result, 2)
    ap_tags = {**base_tags, "vendor": profile.vendor}
    if snapshot.model:
        ap_tags["model"] = snapshot.model
    readings = [Reading(schema.AP, ap_tags, _public(ap_fields), snapshot.time_ns)]
    for (measurement, tag_items), fields in merged.items():
        readings.append(Reading(measurement, dict(tag_items), fields, snapshot.time_ns))
    return readings, ctx.state
