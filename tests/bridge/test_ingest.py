from __future__ import annotations

import gzip

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edge_gateway.agent.buffer import Batch
from edge_gateway.agent.uplink import encode_batch
from edge_gateway.bridge.ingest import MessageError, _as_they_are, check_line, decode_message
from edge_gateway.bridge.reserved import check_reading
from edge_gateway.core.lineproto import LineProtocolError, encode, encode_many, parse
from edge_gateway.core.model import Reading
from edge_gateway.core.wire import CONTENT_TYPE_GZIP
from edge_gateway.core.wire import CONTENT_TYPE_LINES as CONTENT_TYPE

MAX_BYTES = 2**20
LINES = ("ap,device=ap-1,gateway=cbn-gw-01 up=true 10", "device_status,device=ap-1 up=true,latency_ms=2.5 11")


def props(seq: int = 7, n: int = 2, v: str = "1") -> dict[str, str]:
    return {"seq": str(seq), "n": str(n), "v": v}


def test_wire_format_round_trip_plain_and_gzip() -> None:
    batch = Batch(seq=42, ids=(1, 2), lines=LINES)
    for use_gzip, content_type in ((False, CONTENT_TYPE), (True, CONTENT_TYPE_GZIP)):
        payload, properties = encode_batch(batch, use_gzip)
        user = dict(properties.UserProperty)  # type: ignore[attr-defined]
        assert user == {"seq": "42", "n": "2", "v": "1"}
        assert properties.ContentType == content_type  # type: ignore[attr-defined]
        decoded = decode_message("edge/cbn-gw-01/data", payload, user, content_type, MAX_BYTES)
        assert decoded.seq == 42 and decoded.bad_lines == []
        assert decoded.lines == [
            "ap,device=ap-1,gateway=cbn-gw-01 up=true 10",
            "device_status,device=ap-1,gateway=cbn-gw-01 up=true,latency_ms=2.5 11",
        ]
        assert decoded.newest_time_ns == 11


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ap,device=ap-1,gateway=cbn-gw-99 up=true 10", "gateway tag 'cbn-gw-99' is not the topic's"),
        ("ap,device=a\\,b,gateway=cbn-gw-99 up=true 10", "gateway tag 'cbn-gw-99' is not the topic's"),
        ("ap,gateway=cbn-gw-01,gateway=cbn-gw-99 up=true 10", "more than one gateway tag"),
    ],
)
def test_a_gateway_cannot_write_as_another(line: str, reason: str) -> None:
    decoded = decode_message("edge/cbn-gw-01/data", line.encode(), props(n=1), CONTENT_TYPE, MAX_BYTES)
    assert decoded.lines == []
    assert [line for line, _ in decoded.bad_lines] == [line]
    assert decoded.bad_lines[0][1].startswith(reason)


@pytest.mark.parametrize(
    ("line", "stored"),
    [
        ("m,a=1 x=1i 5", "m,a=1,gateway=g1 x=1i 5"),
        ("m x=1i 5", "m,gateway=g1 x=1i 5"),
        ('my\\ m,site=Alun-alun\\ Kejaksan,gateway=g1 s="a b, c" 5', None),
        ("m,k=v\\,w x=1.5 5", "m,gateway=g1,k=v\\,w x=1.5 5"),  # slow path rewrites
        ('m,gateway=g1 x=-1.5e-3,y=T,z="\\"q\\"" -5', None),
    ],
)
def test_lines_are_stamped_with_the_topic_gateway(line: str, stored: str | None) -> None:
    checked, time_ns = check_line(line, "g1")
    assert checked == (stored or line)
    reading = parse(checked)
    assert reading.tags["gateway"] == "g1" and reading.time_ns == time_ns
    assert reading.fields == parse(line).fields


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not line protocol", "bad field"),
        ("nofields", "no field set"),
        ("m x=1i", "no timestamp"),
        ("m x=nan 5", "non-finite"),
        ('m x="open 5', "unterminated"),
        ("m x=1 12ab", "bad timestamp"),
        ("m,t= x=1 5", "bad tag"),
    ],
)
def test_bad_lines_say_why(line: str, reason: str) -> None:
    with pytest.raises(LineProtocolError, match=reason):
        check_line(line, "g1")


def test_bad_lines_are_set_apart_and_the_rest_kept() -> None:
    payload = b"ap,device=ap-1 up=true 10\nnot line protocol\n"
    decoded = decode_message("edge/g1/data", payload, props(n=2), CONTENT_TYPE, MAX_BYTES)
    assert decoded.lines == ["ap,device=ap-1,gateway=g1 up=true 10"]
    assert [line for line, _ in decoded.bad_lines] == ["not line protocol"]


@pytest.mark.parametrize(
    ("topic", "payload", "properties", "content_type", "reason"),
    [
        ("edge/g1/status", b"x", props(), CONTENT_TYPE, "topic"),
        ("edge/bad id/data", b"x", props(), CONTENT_TYPE, "topic"),
        ("edge/g1/data", b"a x=1 1\n", {"n": "1", "v": "1"}, CONTENT_TYPE, "seq is missing"),
        ("edge/g1/data", b"a x=1 1\n", props(seq=10**20, n=1), CONTENT_TYPE, "seq is too long"),
        ("edge/g1/data", b"a x=1 1\n", props(seq=2**63, n=1), CONTENT_TYPE, "seq=.* out of range"),
        ("edge/g1/data", b"a x=1 1\n", props(seq=-1, n=1), CONTENT_TYPE, "out of range"),
        ("edge/g1/data", b"a x=1 1\n", {**props(n=1), "seq": "9" * 5000}, CONTENT_TYPE, "too long"),
        ("edge/g1/data", b"a x=1 1\n", {**props(), "n": "x"}, CONTENT_TYPE, "n must be an integer"),
        ("edge/g1/data", b"a x=1i 1\n" * 200_000, props(n=200_000), CONTENT_TYPE, "over the limit"),
        ("edge/g1/data", gzip.compress(b"\n" * 10**7), props(n=1), CONTENT_TYPE_GZIP, "inflates to more"),
        ("edge/g1/data", gzip.compress(b"a x=1i 1\n")[:-4], props(n=1), CONTENT_TYPE_GZIP, "truncated"),
        ("edge/g1/data", gzip.compress(b"a x=1i 1\n") * 2, props(n=2), CONTENT_TYPE_GZIP, "follows"),
        ("edge/g1/data", b"a x=1 1\n", props(n=1, v="9"), CONTENT_TYPE, "version"),
        ("edge/g1/data", b"\xff\xfe x=1", props(n=1), CONTENT_TYPE, "UTF-8"),
        ("edge/g1/data", b"not gzip", props(n=1), CONTENT_TYPE_GZIP, "gzip"),
        ("edge/g1/data", b"a x=1 1\n", props(n=3), CONTENT_TYPE, "n=3"),
    ],
)
def test_unusable_messages_say_why(
    topic: str, payload: bytes, properties: dict[str, str], content_type: str, reason: str
) -> None:
    with pytest.raises(MessageError, match=reason):
        decode_message(topic, payload, properties, content_type, MAX_BYTES)


def test_size_and_bomb_are_refused_as_too_large() -> None:
    with pytest.raises(MessageError) as caught:
        decode_message("edge/g1/data", gzip.compress(b"0" * 10**7), props(n=1), CONTENT_TYPE_GZIP, MAX_BYTES)
    assert caught.value.reason == "too_large"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('ap,device=d clients=1i,gateway="gw-other" 10', "reserved name: field 'gateway'"),
        ("ap,device=d gateway=1i 10", "reserved name: field 'gateway'"),
        ("ap,device=d clients=1i,site=2.5 10", "reserved name: field 'site'"),
        ("ap,device=d time=1i 10", "reserved name: field 'time'"),
        ('traffic,lane=1 volume=9i,primary="true" 10', "reserved name: field 'primary'"),
        ('ap_iface,ifname=e1 in_bps=1.0,role="uplink" 10', "reserved name: field 'role'"),
        ("ap,device=d _field=1i 10", "reserved name: field '_field'"),
        ("ap,bridge=b1 clients=1i 10", "reserved name: tag 'bridge'"),
        ("ap,severity=page clients=1i 10", "reserved name: tag 'severity'"),
        ("ingest,device=d points=1i 10", "reserved name: measurement 'ingest'"),
        ("alerts firing=true 10", "reserved name: measurement 'alerts'"),
        ("ap clients=99999999999999999999i 10", "out of the 64-bit range"),
        ("ap clients=1i 99999999999999999999", "timestamp"),
        ("ap clients=1e999 10", "non-finite"),
        ("ap clients=1i " + "9" * 5000, "bad timestamp"),
        ("ap c=" + "[" * 100_000 + " 10", "over the limit"),
    ],
)
def test_reserved_names_and_out_of_range_numbers_are_dead_lettered(line: str, reason: str) -> None:
    for gateway_tag in ("", ",gateway=g1"):
        sent = line.replace(" ", gateway_tag + " ", 1) if gateway_tag else line
        decoded = decode_message("edge/g1/data", sent.encode(), props(n=1), CONTENT_TYPE, MAX_BYTES)
        assert decoded.lines == [], sent
        assert reason in decoded.bad_lines[0][1], decoded.bad_lines


def test_names_that_only_look_reserved_pass() -> None:
    lines = "ap,device=d gateways=1i,site_id=2i,time_s=3i 10\nap,device=d,model=x clients=1i 11\n"
    decoded = decode_message("edge/g1/data", lines.encode(), props(n=2), CONTENT_TYPE, MAX_BYTES)
    assert decoded.bad_lines == [] and len(decoded.lines) == 2


def test_gzip_payload_is_accepted() -> None:
    payload = gzip.compress(b"a x=1i 1\n")
    assert decode_message("edge/g1/data", payload, props(n=1), CONTENT_TYPE_GZIP, MAX_BYTES).lines == [
        "a,gateway=g1 x=1i 1"
    ]


_names = st.text(alphabet='abz _,=\\"-.0', min_size=1, max_size=6)
_readings = st.builds(
    Reading,
    st.sampled_from(["ap", "my m", "a,b"]),
    st.dictionaries(
        st.sampled_from(["device", "site", "gateway", "a b", "k,=v"]),
        st.one_of(st.sampled_from(["g1", "g2"]), _names),
        max_size=3,
    ),
    st.dictionaries(
        _names,
        st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), st.booleans(), _names),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 2**62),
)


@given(st.lists(_readings, min_size=1, max_size=8))
def test_a_whole_message_is_decoded_as_its_lines_are_one_by_one(readings: list[Reading]) -> None:
    lines = encode_many(readings)
    assume(lines)
    payload = ("\n".join(lines) + "\n").encode()
    decoded = decode_message("edge/g1/data", payload, props(n=len(lines)), CONTENT_TYPE, MAX_BYTES)
    expected_good, expected_bad = [], []
    for line in lines:
        try:
            expected_good.append(check_line(line, "g1")[0])
        except LineProtocolError:
            expected_bad.append(line)
    assert decoded.lines == expected_good
    assert [line for line, _ in decoded.bad_lines] == expected_bad
    assert all(parse(line).tags["gateway"] == "g1" for line in decoded.lines)
    # Encoded readings are valid line protocol: only another gateway's tag or a reserved name makes
    # one bad.
    assert expected_bad == [encode(r) for r in readings if encode(r) and not _allowed(r)]


def _allowed(reading: Reading) -> bool:
    try:
        check_reading(parse(encode(reading) or ""))
    except LineProtocolError:
        return False
    return reading.tags.get("gateway", "g1") == "g1"


def test_the_fast_path_takes_todays_19_digit_timestamps_and_leaves_overflow_to_the_slow_path() -> None:
    today = "ap,device=d,gateway=g1,site=Alun-alun\\ Kejaksan clients=1i,cpu_pct=2.5 1764633600000000000"
    assert _as_they_are(today + "\n", "g1", 1) == ([today], 1764633600000000000)
    assert _as_they_are("ap,gateway=g1 clients=1i 9300000000000000000\n", "g1", 1) is None
