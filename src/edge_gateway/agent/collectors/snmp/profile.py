"""Vendor profiles as data: which OIDs a device is asked for and how they become readings.

A profile is a TOML file (built-ins in `src/edge_gateway/agent/collectors/snmp/profiles/`, more in
`snmp.profiles_dir`), the
way Telegraf's `snmp.Field` describes a mapping instead of code. A profile names scalars (one GET for
all of them) and tables (one GETBULK walk per needed column, never the whole table), the measurement
each table feeds (`ap_radio`, `ap_iface`, `ap_client`) and the `ap` totals it adds up, and `[limits]`:
how far a poll of such a device may go (`max_rows_per_table`, `max_requests_per_poll`; a device's
config may override both), so a firmware whose table never ends costs a bounded number of requests.
Files are parsed and validated once, where the config is checked (`edge check-config`, the agent's
config child), into the frozen dataclasses below (`ProfileFile` and its parts), which pydantic
validates (imported by `parse_profile` only: the running agent gets the profiles already loaded and
never imports it). Every bad file is reported as `file:line: key: problem`, the key at fault worded
the way a bad config's is (`core.validation.problems_of`) and its line found by `profile_lines`,
never as a traceback.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge

from edge_gateway.agent.collectors.snmp.expr import names_in
from edge_gateway.agent.collectors.snmp.profile_lines import Path as KeyPath
from edge_gateway.agent.collectors.snmp.profile_lines import key_lines, line_of
from edge_gateway.agent.collectors.snmp.profile_types import (
    AsWritten,
    Before,
    Count,
    Number,
    Oid,
    Regex,
    one_group,
)
from edge_gateway.core import schema
from edge_gateway.core.config import Check, ConfigError, Section
from edge_gateway.core.config_checks import Checks

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


class _Part(Section):
    """A piece of a profile file: unknown keys and values of the wrong kind are refused by path."""


def _fallback_takes_the_name(data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("fallback"), dict):
        return {**data, "fallback": {"name": data.get("name"), **data["fallback"]}}
    return data


def _rates_of_counters(spec: OidField) -> list[str]:
    if spec.rate and spec.kind not in ("counter32", "counter64"):
        return ["rate: only counters have rates"]
    return []


@dataclass(frozen=True, kw_only=True)
class OidField(_Part):
    """One value: `{name = "in_octets", oid = "1.3.6.1.2.1.31.1.1.1.6", kind = "counter64", rate = "in_bps"}`.

    `zero_absent` drops a 0 (virtual APs report frequency 0 and noise 0 for "unknown"); `fallback` is
    walked only when `oid` answers nothing (32-bit counters for devices without ifHC*), and takes the
    field's name. A name starting with `_` is an input of totals or derived fields and is never written.
    """

    name: str
    oid: Oid
    kind: Kind = "gauge"
    scale: Number = 1.0
    zero_absent: bool = False
    rate: str = ""
    rate_scale: Number = 8.0
    combine: Literal["sum", "max", "min", "avg"] = "sum"
    fallback: OidField | None = None
    # The value is text holding a number (NET-SNMP-EXTEND-MIB nsExtendOutput1Line of a script).
    parse_text: bool = False

    checks = Checks(before=_fallback_takes_the_name, check=_rates_of_counters, reads=("rate", "kind"))


def _tag_forms(data: Any) -> Any:
    if data == "index":
        return {}
    if isinstance(data, str):
        return {"oid": data}
    if not isinstance(data, dict) or not {"oid", "part"} & data.keys():
        raise ValueError('a tag is an OID, "index", or {oid, part, fallback, text, pattern}')
    return data


@dataclass(frozen=True, kw_only=True)
class TagSource(_Part):
    """A tag's value: a column at the row's index (or at one part of it), or the index itself.

    Written as an OID, as "index", or as a table. `text` reads the index as a length-prefixed string
    (nsExtendToken: "clients-wlan0"); `pattern` keeps the first group of a regex on the value, and a
    row whose value does not match is skipped. `prefix` names another tag of the row put before the
    value (`ap01/1`): a controller's radio is then one series per AP radio, not one per radio index
    across all its APs."""

    oid: Oid = ""
    part: str = ""
    fallback: Oid = ""
    text: bool = False
    pattern: Annotated[Regex, Check(one_group)] = ""
    prefix: str = ""


def _row_filter(value: Any) -> Any:
    if not isinstance(value, dict) or set(value) != {"oid", "equals"}:
        raise ValueError("a row filter is {oid, equals}")
    return (value["oid"], str(value["equals"]))


def _table_problems(table: Table) -> list[str]:
    """What one key of a table needs of the others."""
    problems = []
    if table.measurement not in MEASUREMENTS:
        problems.append(f"measurement: {table.measurement!r} is not one of {MEASUREMENTS}")
    if not table.fields and not table.tags:
        problems.append("a table needs fields or tags")
    for name, tag in table.tags.items():
        if tag.part and tag.part not in table.index:
            problems.append(f"tags.{name}.part: {tag.part!r} is not in index {list(table.index)}")
        if tag.prefix and (
            tag.prefix not in table.tags or tag.prefix == name or table.tags[tag.prefix].prefix
        ):
            problems.append(f"tags.{name}.prefix: {tag.prefix!r} is not another plain tag")
    names = {item.name for item in table.fields}
    for total, how in table.totals.items():
        op, _, source = how.partition(":")
        if op not in TOTALS or (op != "count" and source not in names):
            problems.append(f"totals.{total}: {how!r} is not count or sum|avg|max:FIELD")
    if table.measurement == schema.AP_CLIENT and table.client not in table.index:
        problems.append("client: ap_client tables name the index part holding the MAC")
    return problems


@dataclass(frozen=True, kw_only=True)
class Table(_Part):
    name: str
    measurement: str = ""
    fields: tuple[OidField, ...] = ()
    tags: dict[str, Annotated[TagSource, Before(_tag_forms)]] = field(default_factory=dict)
    index: tuple[str, ...] = ("row",)
    client: str = ""
    group: bool = False
    count_field: str = ""
    totals: dict[str, str] = field(default_factory=dict)
    # rows whose column `oid` holds `equals`
    where: Annotated[tuple[Oid, str] | None, Before(_row_filter)] = None
    speed_field: str = ""
    discontinuity: Oid = ""

    checks = Checks(
        check=_table_problems,
        reads=("measurement", "fields", "tags", "index", "client", "totals", "where"),
    )


@dataclass(frozen=True, kw_only=True)
class _Match(_Part):
    sys_object_id: tuple[Oid, ...] = ()
    probe: Oid = ""
    priority: Annotated[int, AsWritten(), Ge(-1_000_000)] = 0
    sys_descr: Regex = ""  # a regex on sysDescr the device must match too (OpenWrt is a net-snmp agent)


@dataclass(frozen=True, kw_only=True)
class _Limits(_Part):
    max_rows_per_table: Count | None = None
    max_requests_per_poll: Count | None = None


@dataclass(frozen=True, kw_only=True)
class _Model(_Part):
    get: tuple[Oid, ...] | None = None
    column: Oid | None = None


@dataclass(frozen=True, kw_only=True)
class ProfileFile(_Part):
    """A profile file as written; `extends` names the profile whose scalars, tables, derived values,
    model OIDs, limits and uplink pattern it starts from."""

    vendor: str | None = None
    extends: str | None = None
    match: _Match = field(default_factory=_Match)
    limits: _Limits = field(default_factory=_Limits)
    scalars: tuple[OidField, ...] = ()
    tables: tuple[Table, ...] = ()
    derived: dict[str, str] = field(default_factory=dict)
    model: _Model = field(default_factory=_Model)
    uplink_ifname: Regex | None = None


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
    sys_descr: str = ""


def parse_profile(
    data: Mapping[str, Any],
    name: str,
    parent: Profile | None = None,
    source: str = "",
    lines: dict[KeyPath, int] | None = None,
) -> Profile:
    """A validated profile from parsed TOML; `parent` is the profile named by `extends`. Problems
    start with `source:line: ` when the file (`source`) and its key lines (`lines`) are given."""

    def at(loc: Iterable[str | int]) -> str:
        line = line_of(lines or {}, tuple(loc))
        return f"{source}:{line}: " if source and line else (f"{source}: " if source else "")

    from pydantic import ValidationError

    from edge_gateway.core.validation import adapter, problems_of

    try:
        file: ProfileFile = adapter(ProfileFile).validate_python(data)
    except ValidationError as exc:
        problems = problems_of(exc, name)  # in the order of exc.errors()
        raise ProfileError(*(at(e["loc"]) + p for e, p in zip(exc.errors(), problems, strict=True))) from exc
    model_given = file.model.get is not None or file.model.column is not None
    limits = file.limits
    profile = Profile(
        name=name,
        vendor=file.vendor or name,
        sys_object_ids=file.match.sys_object_id,
        probe=file.match.probe,
        priority=file.match.priority,
        scalars=(parent.scalars if parent else ()) + file.scalars,
        tables=(parent.tables if parent else ()) + file.tables,
        derived={**(parent.derived if parent else {}), **file.derived},
        model_oids=file.model.get or () if model_given or not parent else parent.model_oids,
        model_column=file.model.column or "" if model_given else (parent.model_column if parent else ""),
        max_rows_per_table=limits.max_rows_per_table
        or (parent.max_rows_per_table if parent else MAX_ROWS_PER_TABLE),
        max_requests_per_poll=limits.max_requests_per_poll
        or (parent.max_requests_per_poll if parent else MAX_REQUESTS_PER_POLL),
        uplink_ifname=file.uplink_ifname
        if file.uplink_ifname is not None
        else (parent.uplink_ifname if parent else ""),
        sys_descr=file.match.sys_descr,
    )
    known = {item.name for item in profile.scalars} | {t for tb in profile.tables for t in tb.totals}
    for target, expression in profile.derived.items():
        try:
            missing = names_in(expression) - known
        except ValueError as exc:
            raise ProfileError(f"{at(('derived', target))}{name}.derived.{target}: {exc}") from exc
        if missing:
            raise ProfileError(
                f"{at(('derived', target))}{name}.derived.{target}: unknown names {sorted(missing)}"
            )
    return profile


def load_profiles(extra_dirs: Iterable[Path] = ()) -> dict[str, Profile]:
    """Built-in profiles, then every `*.toml` of `extra_dirs` (a file may replace a built-in).

    Every bad file is reported, each by its path and the key at fault (one ProfileError)."""
    raw: dict[str, dict[str, Any]] = {}
    paths: dict[str, Path] = {}
    texts: dict[str, str] = {}
    problems: list[str] = []
    for directory in (BUILTIN_DIR, *extra_dirs):
        if not directory.is_dir():
            raise ProfileError(f"{directory}: profile directory not found")
        for path in sorted(directory.glob("*.toml")):
            try:
                text = path.read_text()
                raw[path.stem] = tomllib.loads(text)
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"{path}: {exc}")
                continue
            paths[path.stem], texts[path.stem] = path, text
    profiles: dict[str, Profile] = {}
    lines = {name: key_lines(text) for name, text in texts.items()}

    def build(name: str, chain: tuple[str, ...]) -> Profile:
        if name in profiles:
            return profiles[name]
        if name in chain or name not in raw:
            child = chain[-1]  # the file whose `extends` names `name`
            where = f"{paths[child]}:{lines[child].get(('extends',), 1)}: {child}.extends"
            if name in chain:
                raise ProfileError(f"{where}: extends itself through {' -> '.join((*chain, name))}")
            raise ProfileError(f"{where}: extends unknown profile {name!r}")
        parent_name = raw[name].get("extends")
        parent = build(str(parent_name), (*chain, name)) if parent_name else None
        profiles[name] = parse_profile(raw[name], name, parent, str(paths[name]), lines[name])
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
