"""Vendor profiles as data: which OIDs a device is asked for and how they become readings.

A profile is a TOML file (built-ins in `src/edge_gateway/agent/collectors/snmp/profiles/`, more in
`snmp.profiles_dir`), the
way Telegraf's `snmp.Field` describes a mapping instead of code. A profile names scalars (one GET for
all of them) and tables (one GETBULK walk per needed column, never the whole table), the measurement
each table feeds (`ap_radio`, `ap_iface`, `ap_client`) and the `ap` totals it adds up, and `[limits]`:
how far a poll of such a device may go (`max_rows_per_table`, `max_requests_per_poll`; a device's
config may override both), so a firmware whose table never ends costs a bounded number of requests.
Files are parsed and validated once, at start; every bad file is reported with its path and the key
at fault, never as a traceback.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edge_gateway.agent.collectors.snmp.expr import names_in
from edge_gateway.core import schema
from edge_gateway.core.config import ConfigError

BUILTIN_DIR = Path(__file__).parent / "profiles"
Kind = Literal["gauge", "integer", "counter32", "counter64", "timeticks", "truth", "text"]
KINDS: tuple[str, ...] = ("gauge", "integer", "counter32", "counter64", "timeticks", "truth", "text")
INTEGER_KINDS = ("integer", "counter32", "counter64")
# `managed_ap`: a controller's per-AP rows (tagged `ap`); apart from `ap`, which is one point per device.
MEASUREMENTS = ("", schema.MANAGED_AP, schema.AP_RADIO, schema.AP_IFACE, schema.AP_CLIENT)
COMBINES = ("sum", "max", "min", "avg")
TOTALS = ("sum", "avg", "max", "count")
INDEX_PARTS = {"mac": 6}  # index components wider than one sub-identifier
# Default limits: a healthy poll of a simulated AP of any built-in profile costs 7-17 requests, an
# AP with 200 clients about 65, a CAPsMAN controller with 1000 clients about 300 (40 GETBULKs and
# 250 GETs of 24 cells). Rows beyond the cap are not asked for; a bigger device's profile or config
# raises both.
MAX_ROWS_PER_TABLE = 1000
MAX_REQUESTS_PER_POLL = 300


class ProfileError(ConfigError):
    """A profile that cannot be used; a ConfigError, so the agent and check-config report it alike."""

    def __init__(self, *messages: str) -> None:
        super().__init__(list(messages))


@dataclass(frozen=True, slots=True)
class OidField:
    """One value: `OidField("in_octets", "1.3.6.1.2.1.31.1.1.1.6", kind="counter64", rate="in_bps")`.

    `zero_absent` drops a 0 (virtual APs report frequency 0 and noise 0 for "unknown"); `fallback` is
    walked only when `oid` answers nothing (32-bit counters for devices without ifHC*). A name starting
    with `_` is an input of totals or derived fields and is never written.
    """

    name: str
    oid: str
    kind: Kind = "gauge"
    scale: float = 1.0
    zero_absent: bool = False
    rate: str = ""
    rate_scale: float = 8.0
    combine: str = "sum"
    fallback: OidField | None = None
    # The value is text holding a number (NET-SNMP-EXTEND-MIB nsExtendOutput1Line of a script).
    parse_text: bool = False


@dataclass(frozen=True, slots=True)
class TagSource:
    """A tag's value: a column at the row's index (or at one part of it), or the index itself.

    `text` reads the index as a length-prefixed string (nsExtendToken: "clients-wlan0"); `pattern`
    keeps the first group of a regex on the value, and a row whose value does not match is skipped.
    `prefix` names another tag of the row put before the value (`ap01/1`): a controller's radio is then
    one series per AP radio, not one per radio index across all its APs."""

    oid: str = ""
    part: str = ""
    fallback: str = ""
    text: bool = False
    pattern: str = ""
    prefix: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    measurement: str
    fields: tuple[OidField, ...]
    tags: Mapping[str, TagSource] = field(default_factory=dict)
    index: tuple[str, ...] = ("row",)
    client: str = ""
    group: bool = False
    count_field: str = ""
    totals: Mapping[str, str] = field(default_factory=dict)
    where: tuple[str, str] | None = None
    speed_field: str = ""
    discontinuity: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    vendor: str
    sys_object_ids: tuple[str, ...]
    probe: str
    priority: int
    scalars: tuple[OidField, ...]
    tables: tuple[Table, ...]
    derived: Mapping[str, str]
    model_oids: tuple[str, ...]
    model_column: str
    max_rows_per_table: int = MAX_ROWS_PER_TABLE
    max_requests_per_poll: int = MAX_REQUESTS_PER_POLL
    # Which `ap_iface` row is the AP's uplink (regex on ifname): tagged `role = uplink` for the
    # NOC's throughput, whatever the vendor or the operator named the port.
    uplink_ifname: str = ""
    # A regex on sysDescr the device must match too (OpenWrt is a net-snmp Linux agent by sysObjectID).
    sys_descr: str = ""


def _uplink_ifname(data: Mapping[str, Any], parent: Profile | None, name: str) -> str:
    pattern = str(data.get("uplink_ifname", parent.uplink_ifname if parent else ""))
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ProfileError(f"{name}.uplink_ifname: not a regular expression: {exc}") from exc
    return pattern


def _regex(value: Any, where: str) -> str:
    try:
        re.compile(str(value))
    except re.error as exc:
        raise ProfileError(f"{where}: not a regular expression: {exc}") from exc
    return str(value)


def _oid(value: Any, where: str) -> str:
    text = str(value).strip().lstrip(".")
    parts = text.split(".")
    if not text or not all(part.isdigit() for part in parts) or len(parts) < 2:
        raise ProfileError(f"{where}: {value!r} is not a numeric OID")
    return text


def _number(raw: Mapping[str, Any], key: str, default: float, where: str) -> float:
    """A finite number from the TOML (an integer or a float, never a string)."""
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProfileError(f"{where}.{key}: {value!r} is not a number")
    return float(value)


def _count(raw: Mapping[str, Any], key: str, default: int, where: str, low: int = 1) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ProfileError(f"{where}.{key}: {value!r} is not a whole number of at least {low}")
    return value


def _field(raw: Any, where: str) -> OidField:
    if not isinstance(raw, dict) or "name" not in raw or "oid" not in raw:
        raise ProfileError(f"{where}: a field needs name and oid")
    unknown = set(raw) - set(OidField.__slots__)
    if unknown:
        raise ProfileError(f"{where}: unknown keys {sorted(unknown)}")
    kind = raw.get("kind", "gauge")
    if kind not in KINDS:
        raise ProfileError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    combine = raw.get("combine", "sum")
    if combine not in COMBINES:
        raise ProfileError(f"{where}.combine: {combine!r} is not one of {', '.join(COMBINES)}")
    if raw.get("rate") and kind not in ("counter32", "counter64"):
        raise ProfileError(f"{where}.rate: only counters have rates")
    fallback = raw.get("fallback")
    return OidField(
        name=str(raw["name"]),
        oid=_oid(raw["oid"], f"{where}.oid"),
        kind=kind,
        scale=_number(raw, "scale", 1.0, where),
        zero_absent=bool(raw.get("zero_absent", False)),
        rate=str(raw.get("rate", "")),
        rate_scale=_number(raw, "rate_scale", 8.0, where),
        combine=combine,
        fallback=_field({"name": raw["name"], **fallback}, f"{where}.fallback") if fallback else None,
        parse_text=bool(raw.get("parse_text", False)),
    )


def _tag(raw: Any, index: tuple[str, ...], where: str) -> TagSource:
    if raw == "index":
        return TagSource()
    if isinstance(raw, str):
        return TagSource(oid=_oid(raw, where))
    if not isinstance(raw, dict) or not ({"oid", "part"} & set(raw)):
        raise ProfileError(f'{where}: a tag is an OID, "index", or {{oid, part, fallback, text, pattern}}')
    pattern = _regex(raw.get("pattern", ""), f"{where}.pattern")
    if pattern and re.compile(pattern).groups != 1:
        raise ProfileError(f"{where}.pattern: needs exactly one group, the tag's value")
    part = str(raw.get("part", ""))
    if part and part not in index:
        raise ProfileError(f"{where}.part: {part!r} is not in index {list(index)}")
    oid = _oid(raw["oid"], f"{where}.oid") if "oid" in raw else ""
    fallback = _oid(raw["fallback"], f"{where}.fallback") if "fallback" in raw else ""
    text, prefix = bool(raw.get("text", False)), str(raw.get("prefix", ""))
    return TagSource(oid=oid, part=part, fallback=fallback, text=text, pattern=pattern, prefix=prefix)


def _table(raw: Any, where: str) -> Table:
    if not isinstance(raw, dict) or "name" not in raw:
        raise ProfileError(f"{where}: a table needs a name")
    measurement = str(raw.get("measurement", ""))
    if measurement not in MEASUREMENTS:
        raise ProfileError(f"{where}.measurement: {measurement!r} is not one of {MEASUREMENTS}")
    index = tuple(str(part) for part in raw.get("index", ["row"]))
    fields = tuple(_field(item, f"{where}.fields[{i}]") for i, item in enumerate(raw.get("fields", [])))
    names = {item.name for item in fields}
    tags = {str(k): _tag(v, index, f"{where}.tags.{k}") for k, v in raw.get("tags", {}).items()}
    for name, tag_source in tags.items():
        if tag_source.prefix and (
            tag_source.prefix not in tags or tag_source.prefix == name or tags[tag_source.prefix].prefix
        ):
            raise ProfileError(f"{where}.tags.{name}.prefix: {tag_source.prefix!r} is not another plain tag")
    totals = {str(k): str(v) for k, v in raw.get("totals", {}).items()}
    for total, how in totals.items():
        op, _, source = how.partition(":")
        if op not in TOTALS or (op != "count" and source not in names):
            raise ProfileError(f"{where}.totals.{total}: {how!r} is not count or sum|avg|max:FIELD")
    client = str(raw.get("client", ""))
    if measurement == schema.AP_CLIENT and client not in index:
        raise ProfileError(f"{where}.client: ap_client tables name the index part holding the MAC")
    where_raw = raw.get("where")
    row_filter = (_oid(where_raw["oid"], f"{where}.where"), str(where_raw["equals"])) if where_raw else None
    if not fields and not tags:
        raise ProfileError(f"{where}: a table needs fields or tags")
    return Table(
        name=str(raw["name"]),
        measurement=measurement,
        fields=fields,
        tags=tags,
        index=index,
        client=client,
        group=bool(raw.get("group", False)),
        count_field=str(raw.get("count_field", "")),
        totals=totals,
        where=row_filter,
        speed_field=str(raw.get("speed_field", "")),
        discontinuity=_oid(raw["discontinuity"], f"{where}.discontinuity") if "discontinuity" in raw else "",
    )


def parse_profile(data: Mapping[str, Any], name: str, parent: Profile | None = None) -> Profile:
    """A validated profile from parsed TOML; `parent` is the profile named by `extends`."""
    match = data.get("match", {})
    limits = data.get("limits", {})
    if not isinstance(match, dict) or not isinstance(limits, dict):
        raise ProfileError(f"{name}: [match] and [limits] are tables")
    unknown = set(limits) - {"max_rows_per_table", "max_requests_per_poll"}
    if unknown:
        raise ProfileError(f"{name}.limits: unknown keys {sorted(unknown)}")
    scalars = tuple(_field(item, f"{name}.scalars[{i}]") for i, item in enumerate(data.get("scalars", [])))
    tables = tuple(_table(item, f"{name}.tables[{i}]") for i, item in enumerate(data.get("tables", [])))
    derived = {str(k): str(v) for k, v in data.get("derived", {}).items()}
    model = data.get("model", {})
    profile = Profile(
        name=name,
        vendor=str(data.get("vendor", name)),
        sys_object_ids=tuple(_oid(o, f"{name}.match.sys_object_id") for o in match.get("sys_object_id", [])),
        probe=_oid(match["probe"], f"{name}.match.probe") if "probe" in match else "",
        priority=_count(match, "priority", 0, f"{name}.match", low=-1_000_000),
        scalars=(parent.scalars if parent else ()) + scalars,
        tables=(parent.tables if parent else ()) + tables,
        derived={**(parent.derived if parent else {}), **derived},
        model_oids=tuple(_oid(o, f"{name}.model.get") for o in model.get("get", []))
        if model or not parent
        else parent.model_oids,
        model_column=_oid(model["column"], f"{name}.model.column")
        if "column" in model
        else (parent.model_column if parent and not model else ""),
        max_rows_per_table=_count(
            limits,
            "max_rows_per_table",
            parent.max_rows_per_table if parent else MAX_ROWS_PER_TABLE,
            f"{name}.limits",
        ),
        max_requests_per_poll=_count(
            limits,
            "max_requests_per_poll",
            parent.max_requests_per_poll if parent else MAX_REQUESTS_PER_POLL,
            f"{name}.limits",
        ),
        uplink_ifname=_uplink_ifname(data, parent, name),
        sys_descr=_regex(match.get("sys_descr", ""), f"{name}.match.sys_descr"),
    )
    known = {item.name for item in profile.scalars} | {t for tb in profile.tables for t in tb.totals}
    for target, expression in profile.derived.items():
        try:
            missing = names_in(expression) - known
        except ValueError as exc:
            raise ProfileError(f"{name}.derived.{target}: {exc}") from exc
        if missing:
            raise ProfileError(f"{name}.derived.{target}: unknown names {sorted(missing)}")
    return profile


def load_profiles(extra_dirs: Iterable[Path] = ()) -> dict[str, Profile]:
    """Built-in profiles, then every `*.toml` of `extra_dirs` (a file may replace a built-in).

    Every bad file is reported, each by its path and the key at fault (one ProfileError)."""
    raw: dict[str, dict[str, Any]] = {}
    paths: dict[str, Path] = {}
    problems: list[str] = []
    for directory in (BUILTIN_DIR, *extra_dirs):
        if not directory.is_dir():
            raise ProfileError(f"{directory}: profile directory not found")
        for path in sorted(directory.glob("*.toml")):
            try:
                raw[path.stem], paths[path.stem] = tomllib.loads(path.read_text()), path
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"{path}: {exc}")
    profiles: dict[str, Profile] = {}

    def build(name: str, chain: tuple[str, ...]) -> Profile:
        if name in profiles:
            return profiles[name]
        if name in chain:
            raise ProfileError(f"{name}: extends itself through {' -> '.join(chain)}")
        if name not in raw:
            raise ProfileError(f"{chain[-1] if chain else name}: extends unknown profile {name!r}")
        parent_name = raw[name].get("extends")
        parent = build(str(parent_name), (*chain, name)) if parent_name else None
        try:
            profiles[name] = parse_profile(raw[name], name, parent)
        except ProfileError as exc:
            raise ProfileError(*(f"{paths[name]}: {problem}" for problem in exc.problems)) from exc
        except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a value of the wrong shape
            raise ProfileError(f"{paths[name]}: a key is missing or of the wrong kind ({exc!r})") from exc
        return profiles[name]

    for name in raw:
        try:
            build(name, ())
        except ProfileError as exc:
            problems += [problem for problem in exc.problems if problem not in problems]
    if problems:
        raise ProfileError(*problems)
    return profiles


def profile_names(extra_dirs: Iterable[Path] = ()) -> set[str]:
    """The names of the profiles there are files for, loadable or not."""
    dirs = (BUILTIN_DIR, *extra_dirs)
    return {path.stem for directory in dirs if directory.is_dir() for path in directory.glob("*.toml")}


def candidates(profiles: Mapping[str, Profile], sys_object_id: str, sys_descr: str = "") -> list[Profile]:
    """Profiles that may fit a device, best first: sysObjectID match, then priority, then name.

    A profile with `sys_descr` fits only a device whose sysDescr matches it (case-insensitive)."""
    oid = sys_object_id.lstrip(".")

    def matches(profile: Profile) -> bool:
        if profile.sys_descr and not re.search(profile.sys_descr, sys_descr, re.IGNORECASE):
            return False
        return not profile.sys_object_ids or any(
            oid == prefix or oid.startswith(prefix + ".") for prefix in profile.sys_object_ids
        )

    fitting = [p for p in profiles.values() if matches(p)]
    return sorted(fitting, key=lambda p: (not p.sys_object_ids, -p.priority, p.name))
