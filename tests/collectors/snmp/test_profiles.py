"""Profiles as data: the built-ins load, a dropped-in file adds one, bad files are refused clearly."""

from __future__ import annotations

import pickle
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway.agent.collectors.snmp.expr import evaluate, names_in
from edge_gateway.agent.collectors.snmp.profile import (
    BUILTIN_DIR,
    MAX_REQUESTS_PER_POLL,
    MAX_ROWS_PER_TABLE,
    ProfileError,
    candidates,
    load_profiles,
)
from edge_gateway.agent.collectors.snmp.profile_lines import key_lines
from edge_gateway.agent.collectors.snmp.readings import number_in
from edge_gateway.agent.collectors.snmp.snapshot import fetch
from edge_gateway.agent.collectors.snmp.walk import Link
from tests.collectors.snmp.fakes import FakeBackend, FakeDevice
from tests.collectors.snmp.walks import MIKROTIK, UNIFI, load_walk


def test_builtin_profiles_load_and_extend_generic() -> None:
    profiles = load_profiles()
    assert {"generic", "mikrotik", "unifi", "airmax"} <= set(profiles)
    interfaces = profiles["generic"].tables[0]
    assert all(table in profiles["mikrotik"].tables for table in profiles["generic"].tables)
    assert interfaces.measurement == "ap_iface"


def test_sys_object_id_picks_vendor_profiles_first() -> None:
    """Then the profiles chosen by their probe alone (hikvision: HIK-DEVICE-MIB answering), then generic."""
    profiles = load_profiles()
    after_vendor = ["hikvision", "generic"]
    assert [p.name for p in candidates(profiles, "1.3.6.1.4.1.14988.1")] == ["mikrotik", *after_vendor]
    assert [p.name for p in candidates(profiles, ".1.3.6.1.4.1.10002.1")][:2] == ["unifi", "airmax"]
    assert [p.name for p in candidates(profiles, "1.3.6.1.4.1.8072.3.2.10")] == after_vendor


def test_text_objects_give_their_number_with_or_without_a_unit() -> None:
    """HIK-DEVICE-MIB writes `15 PERCENT`, `512 MB`; extend scripts print bare numbers."""
    texts = ("15 PERCENT", "512 MB", "45%", "-95", "5180.0")
    assert [number_in(t) for t in texts] == [15, 512, 45, -95, 5180]
    assert [number_in(t) for t in ("", "PERCENT", "12 34", "nan", "n/a")] == [None] * 5


async def test_client_tables_are_not_walked_unless_asked() -> None:
    profiles = load_profiles()
    registration_signal = "1.3.6.1.4.1.14988.1.1.1.2.1.3"
    walked = {}
    for clients in (False, True):
        link = Link(FakeBackend(FakeDevice(load_walk(MIKROTIK))), 25, 10_000, 0)
        walked[clients] = (await fetch(link, profiles["mikrotik"], clients, "")).columns
    assert registration_signal in walked[True] and registration_signal not in walked[False]


async def test_tables_without_rows_cost_one_walk() -> None:
    link = Link(FakeBackend(FakeDevice(load_walk(UNIFI))), 25, 10_000, 0)
    columns = (await fetch(link, load_profiles()["unifi"], False, "")).columns
    if_mib = [
        column
        for column in columns
        if column.startswith("1.3.6.1.2.1.2.") or column.startswith("1.3.6.1.2.1.31.")
    ]
    assert sorted(if_mib) == ["1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.31.1.1.1.6"]  # ifHCInOctets, its fallback


def test_a_dropped_in_file_adds_a_profile(tmp_path: Path) -> None:
    (tmp_path / "cambium.toml").write_text(
        'vendor = "cambium"\nextends = "generic"\n[match]\nsys_object_id = ["1.3.6.1.4.1.17713"]\n'
        '[[scalars]]\nname = "temp_c"\noid = "1.3.6.1.4.1.17713.21.1.1.5.0"\nscale = 0.1\n'
    )
    profiles = load_profiles([tmp_path])
    assert profiles["cambium"].scalars[-1].name == "temp_c"
    assert candidates(profiles, "1.3.6.1.4.1.17713.22")[0].name == "cambium"  # not ePMP (17713.21): built in


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[scalars]]\nname = "x"\noid = "1.3.6.1.2.1.1.3.0"\nkind = "float"\n', "kind"),
        ('[[scalars]]\nname = "x"\noid = "sysUpTime"\n', "not a numeric OID"),
        ('extends = "nowhere"\n', "unknown profile"),
        ('[derived]\nx = "__import__(1)"\n', "not allowed"),
        ('[derived]\nx = "100 * nothing"\n', "unknown names"),
        (
            '[[tables]]\nname = "t"\nmeasurement = "ap_client"\nfields = [{name="a", oid="1.3.6.1.2"}]\n',
            "MAC",
        ),
        (
            '[[tables]]\nname = "t"\nfields = [{name="a", oid="1.3.6.1.2"}]\ntotals = {n = "sum:b"}\n',
            "totals",
        ),
        ("this is = = not toml", "bad.toml"),
    ],
)
def test_bad_profiles_are_refused_with_the_place(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ProfileError, match=message):
        load_profiles([tmp_path])


def test_expressions_are_arithmetic_only() -> None:
    assert names_in("100 * (a - b) / a") == {"a", "b"}
    assert evaluate("100 * (a - b) / a", {"a": 200.0, "b": 50.0}) == 75.0
    assert evaluate("a / b", {"a": 1.0, "b": 0.0}) is None
    assert evaluate("a + c", {"a": 1.0}) is None
    with pytest.raises(ValueError, match="not allowed"):
        names_in("open('x')")


TWO_TABLES = (
    '[[tables]]\nname = "t"\nfields = [{name="a", oid="1.3.6.1.2"}]\n\n'
    '[[tables]]   # the second\nname = "u"\nfields = [\n  {name = "a", oid = "1.3.6.1.2"},\n'
    '  {name = "b", oid = "1.3.6.1.3", scale = "%s"},\n]\n'
)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '[[scalars]]\nname = "x"\noid = "1.3.6.1.2.1.1.3.0"\nscale = "abc"\n',
            4,
            "bad.scalars[0].scale: Input should be a valid number (got 'abc')",
        ),
        ("[match]\npriority = 1.5\n", 2, "bad.match.priority: Input should be a valid integer (got 1.5)"),
        (
            "[limits]\nmax_rows_per_table = 0\n",
            2,
            "bad.limits.max_rows_per_table: Input should be greater than",
        ),
        ("# limits\n[limits]\nmax_rows = 10\n", 3, "bad.limits.max_rows: unknown key"),
        ("tables = 5\n", 1, "bad.tables: Input should be a valid tuple (got 5)"),
        (
            '[[scalars]]\nname = "x"\noid = "sysUpTime"\n',
            3,
            "bad.scalars[0].oid: not a numeric OID (got 'sysUpTime')",
        ),
        (
            '[[tables]]\nname = "t"\nwhere = {oid = "1.3.6.1.2"}\n',
            3,
            "bad.tables[0].where: a row filter is {oid, equals}",
        ),
        (TWO_TABLES % "ten", 9, "bad.tables[1].fields[1].scale: Input should be a valid number (got 'ten')"),
        (
            (TWO_TABLES % "1").replace("scale =", "scael ="),
            9,
            "bad.tables[1].fields[1].scael: unknown key",
        ),
        ('vendor = "v"\n\n[derived]\nx = "100 * nothing"\n', 4, "bad.derived.x: unknown names"),
        ('vendor = "v"\nextends = "nowhere"\n', 2, "bad.extends: extends unknown profile 'nowhere'"),
    ],
    ids=[
        "bad-scale",
        "float-priority",
        "zero-limit",
        "unknown-key",
        "wrong-shape",
        "bad-oid",
        "bad-filter",
        "bad-scale-inline",
        "unknown-key-inline",
        "unknown-name",
        "unknown-parent",
    ],
)
def test_a_bad_value_is_an_error_naming_file_line_and_key(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profiles([tmp_path])
    (problem,) = caught.value.problems
    assert problem.startswith(f"{tmp_path / 'bad.toml'}:{line}: ") and message in problem


def key_paths(data: object, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every key path of parsed TOML, the way the line scanner names them."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*at, key)
        yield from key_paths(value, (*at, key))


def test_every_key_of_the_built_in_profiles_is_placed_on_its_line() -> None:
    """The line scanner finds every key path tomllib reads, on a line that names the key."""
    for path in sorted(BUILTIN_DIR.glob("*.toml")):
        text = path.read_text()
        lines, source = key_lines(text), text.splitlines()
        found = set(key_paths(tomllib.loads(text)))
        assert found == set(lines), path.name
        for key_path, line in lines.items():
            name = key_path[-1]
            assert not isinstance(name, str) or name in source[line - 1], (path.name, key_path, line)


def test_every_bad_profile_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "one.toml").write_text('[[scalars]]\nname = "x"\noid = "1.3.6.1.2.1.1.3.0"\nscale = "a"\n')
    (tmp_path / "two.toml").write_text("not = = toml")
    with pytest.raises(ProfileError) as caught:
        load_profiles([tmp_path])
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        str(tmp_path / "two.toml"),
        str(tmp_path / "one.toml"),
    ]


def test_limits_come_from_the_profile_and_are_inherited(tmp_path: Path) -> None:
    (tmp_path / "big.toml").write_text('extends = "generic"\n[limits]\nmax_rows_per_table = 5000\n')
    (tmp_path / "bigger.toml").write_text('extends = "big"\n[limits]\nmax_requests_per_poll = 900\n')
    profiles = load_profiles([tmp_path])
    assert profiles["generic"].max_rows_per_table == MAX_ROWS_PER_TABLE
    assert (profiles["big"].max_rows_per_table, profiles["big"].max_requests_per_poll) == (
        5000,
        MAX_REQUESTS_PER_POLL,
    )
    assert (profiles["bigger"].max_rows_per_table, profiles["bigger"].max_requests_per_poll) == (5000, 900)


def test_a_field_is_checked_wherever_it_is_written(tmp_path: Path) -> None:
    """A field's own checks (a rate is a counter's; a fallback takes the field's name) hold in a
    scalar, in a table and in a fallback alike, not only where the profile first uses a field."""
    counter = 'name = "in", oid = "1.3.6.1.2", kind = "counter64", rate = "in_bps"'
    text = (
        f"scalars = [{{ {counter} }}]\n"
        f'[[tables]]\nname = "t"\nfields = [\n  {{ {counter}, fallback = {{ oid = "1.3.6.1.3" }} }},\n]\n'
    )
    (tmp_path / "good.toml").write_text(text)
    [table] = load_profiles([tmp_path])["good"].tables
    fallback = table.fields[0].fallback
    assert fallback is not None and (fallback.name, fallback.oid) == ("in", "1.3.6.1.3")
    (tmp_path / "good.toml").write_text(text.replace('oid = "1.3.6.1.3"', 'oid = "1.3.6.1.3", rate = "x"'))
    with pytest.raises(ProfileError) as caught:
        load_profiles([tmp_path])
    (problem,) = caught.value.problems
    assert problem.startswith(
        f"{tmp_path / 'good.toml'}:5: good.tables[0].fields[0].fallback: rate: only counters"
    )


def test_profiles_cross_to_the_agent_as_they_are() -> None:
    """The agent's config child checks the profiles and hands them over pickled: nothing is lost."""
    profiles = load_profiles()
    assert pickle.loads(pickle.dumps(profiles)) == profiles
