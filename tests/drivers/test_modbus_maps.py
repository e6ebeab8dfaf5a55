"""Register maps: validation with clear errors, read planning, value decoding."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.core.validation import validate
from edge_gateway.drivers import modbus_maps
from edge_gateway.drivers.base import DriverConfigError
from edge_gateway.drivers.modbus_maps import ReadBlock, RegisterPoint, builtin_map, builtin_maps, parse_map


def _point(**changes: Any) -> dict[str, Any]:
    point: dict[str, Any] = {
        "name": "p",
        "function": 3,
        "register": 0,
        "measurement": "weather",
        "field": "temp_c",
    }
    point.update(changes)
    return point


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "bit"}, "type 'bit' goes with functions 1 and 2"),
        ({"function": 2}, "type 'bit' goes with functions 1 and 2"),
        ({"function": 6}, "points[0].function"),
        ({"register": 65535, "type": "u32"}, "runs past register 65535"),
        ({"register": -1}, "points[0].register"),
        ({"scale": 0}, "scale must be finite and non-zero"),
        ({"function": 2, "type": "bit", "scale": 2}, "a bit takes no scale or offset"),
        ({"counter": True, "type": "s16"}, "a counter is a u16 or u32"),
        ({"counter": True, "scale": 0.1}, "a counter is a u16 or u32"),
        ({"type": "u64"}, "points[0].type"),
        ({"word_order": "middle"}, "points[0].word_order"),
        ({"measurement": "bad name"}, "points[0].measurement"),
        ({"unit": "C"}, "points[0].unit"),
    ],
)
def test_bad_point_is_named_in_the_error(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(DriverConfigError) as caught:
        parse_map({"name": "m", "points": [_point(**changes)]}, "map")
    assert any(message in problem for problem in caught.value.problems), caught.value.problems
    assert all(problem.startswith("map") for problem in caught.value.problems)


def test_duplicate_names_and_fields_are_refused() -> None:
    with pytest.raises(DriverConfigError, match="two points are named 'p'"):
        parse_map({"name": "m", "points": [_point(), _point(register=1, field="rh_pct")]})
    with pytest.raises(DriverConfigError, match="two points write field 'temp_c'"):
        parse_map({"name": "m", "points": [_point(), _point(name="q", register=1)]})
    with pytest.raises(DriverConfigError, match="points"):
        parse_map({"name": "m", "points": []})


def test_a_bad_point_does_not_hide_duplicates_among_the_others() -> None:
    points = [_point(), _point(register=1, field="rh_pct"), _point(name="x", function=9)]
    with pytest.raises(DriverConfigError) as caught:
        parse_map({"name": "m", "points": points})
    assert [problem.split(":")[0] for problem in caught.value.problems] == ["map.points[2].function", "map"]
    assert caught.value.problems[1] == "map: two points are named 'p'"


def test_same_field_under_different_tags_is_fine() -> None:
    points = [_point(tags={"lane": "1"}), _point(name="q", register=1, tags={"lane": "2"})]
    assert len(parse_map({"name": "m", "points": points}).points) == 2


def test_unknown_builtin_map_lists_the_known_ones() -> None:
    with pytest.raises(DriverConfigError, match="known: di8, noise, pm, xy-md02"):
        builtin_map("nope")
    assert set(builtin_maps()) == {"di8", "noise", "pm", "xy-md02"}


def test_builtin_maps_are_what_validation_makes_of_them() -> None:
    """The shipped maps are built without pydantic (the running agent imports none): each must be
    valid and equal, to the type of every number (a scale of 2 is not 2.0), to its validated self."""
    tables = tomllib.loads(Path(modbus_maps.__file__).with_name("modbus_maps.toml").read_text())
    for name, table in tables.items():
        assert repr(builtin_maps()[name]) == repr(parse_map({"name": name, **table}, name))


def test_blocks_join_contiguous_ranges_only() -> None:
    points = [
        _point(name="a", register=0),
        _point(name="b", register=1, type="u32", field="b"),
        _point(name="c", register=5, field="c"),
        _point(name="d", function=4, register=5, field="d"),
        _point(name="e", function=3, register=2, field="e"),  # overlaps b: same block
    ]
    assert parse_map({"name": "m", "points": points}).blocks() == [
        ReadBlock(3, 0, 3),
        ReadBlock(3, 5, 1),
        ReadBlock(4, 5, 1),
    ]


def test_blocks_respect_the_125_register_limit() -> None:
    points = [_point(name=f"p{i}", register=i, field=f"f{i}") for i in range(130)]
    assert parse_map({"name": "m", "points": points}).blocks() == [ReadBlock(3, 0, 125), ReadBlock(3, 125, 5)]


@pytest.mark.parametrize(
    ("changes", "words", "value"),
    [
        ({"type": "u16"}, [0xFFFF], 65535.0),
        ({"type": "s16"}, [0xFFFF], -1.0),
        ({"type": "s16", "scale": 0.1}, [0x8000], -3276.8),
        ({"type": "u32"}, [0x0001, 0x0002], 65538.0),
        ({"type": "u32", "word_order": "little"}, [0x0002, 0x0001], 65538.0),
        ({"type": "s32"}, [0xFFFF, 0xFFFE], -2.0),
        ({"type": "f32"}, [0xC148, 0x0000], -12.5),
        ({"type": "f32"}, [0x7FC0, 0x0000], None),  # NaN is left out
        ({"type": "u16", "scale": 0.1}, [3], 0.3),
        ({"type": "u16", "scale": 0.5, "offset": -40}, [150], 35.0),
        ({"type": "u32", "counter": True}, [0xFFFF, 0xFFFF], 4294967295),
        ({"function": 1, "type": "bit"}, [1], True),
    ],
)
def test_point_values(changes: dict[str, Any], words: list[int], value: object) -> None:
    point = validate(RegisterPoint, _point(**changes))
    assert point.value(words) == value
    assert type(point.value(words)) is type(value)


def test_decode_leaves_out_points_not_read() -> None:
    xy = builtin_map("xy-md02")
    assert xy.decode({(4, 1): 215}) == {("weather", ()): {"temp_c": 21.5}}
    assert xy.decode({(3, 1): 215}) == {}


def test_counter_bits_come_from_the_type() -> None:
    assert builtin_map("di8").counter_bits() == {"count_total": 16}
    assert builtin_map("pm").counter_bits() == {}
