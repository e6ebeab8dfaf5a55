from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_gateway.core.lineproto import LineProtocolError, encode, encode_many, parse
from edge_gateway.core.model import Reading

names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s
)
values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
)


def test_encode_escapes_and_types() -> None:
    reading = Reading(
        "a p",
        {"site": "Alun-alun, Kejaksan", "k=": "v"},
        {"s": 'say "hi" \\', "n": 3, "f": 0.5, "b": False},
        7,
    )
    assert encode(reading) == r'a\ p,k\==v,site=Alun-alun\,\ Kejaksan s="say \"hi\" \\",n=3i,f=0.5,b=false 7'


def test_empty_tags_are_left_out_and_tags_sorted() -> None:
    assert encode(Reading("m", {"z": "1", "a": "", "b": "2"}, {"x": 1}, 1)) == "m,b=2,z=1 x=1i 1"


def test_reading_without_a_finite_field_is_not_encoded() -> None:
    assert encode(Reading("m", {}, {"x": float("nan"), "y": float("inf")}, 1)) is None
    assert encode_many([Reading("m", {}, {"x": float("nan")}, 1), Reading("m", {}, {"x": 1.0}, 2)]) == [
        "m x=1.0 2"
    ]


def test_newlines_never_split_a_line() -> None:
    line = encode(Reading("m", {"t": "a\nb"}, {"error": "line1\nline2"}, 1))
    assert line is not None and "\n" not in line
    assert parse(line).fields["error"] == "line1 line2"


@pytest.mark.parametrize(
    "line",
    ["", "m", "m x", "m x=", "m =1", 'm x="open', "m x=1 notatime", "m,t x=1", "m x=12abi", "m x=NaN"],
)
def test_parse_rejects_malformed(line: str) -> None:
    with pytest.raises(LineProtocolError):
        parse(line)


def test_parse_accepts_influx_spellings() -> None:
    reading = parse('m,t=1 a=T,b=FALSE,c=5u,d=-1.5e3,e="x,y z" 99')
    assert reading.fields == {"a": True, "b": False, "c": 5, "d": -1500.0, "e": "x,y z"}
    assert reading.tags == {"t": "1"} and reading.time_ns == 99


@given(
    measurement=names,
    tags=st.dictionaries(names, names, max_size=4),
    fields=st.dictionaries(names, values, min_size=1, max_size=4),
    time_ns=st.integers(min_value=0, max_value=2**62),
)
def test_round_trip(measurement: str, tags: dict[str, str], fields: dict[str, object], time_ns: int) -> None:
    reading = Reading(measurement, tags, fields, time_ns)  # type: ignore[arg-type]
    line = encode(reading)
    assert line is not None
    back = parse(line)

    def clean(name: str) -> str:
        return name.replace("\\", "/")

    assert back.measurement == clean(measurement)
    assert back.tags == {clean(k): clean(v) for k, v in tags.items()}
    assert back.fields == {clean(k): v for k, v in fields.items()}
    assert back.time_ns == time_ns
