from __future__ import annotations

import gzip

import pytest

from bridge.ingest import Accounts, GatewayAccount, MessageError, decode_message
from edge.buffer import Batch
from edge.uplink import CONTENT_TYPE, CONTENT_TYPE_GZIP, encode_batch

LINES = ("ap,device=ap-1 up=true 10", "device_status,device=ap-1 up=true,latency_ms=2.5 11")


def props(seq: int = 7, n: int = 2, v: str = "1") -> dict[str, str]:
    return {"seq": str(seq), "n": str(n), "v": v}


def test_wire_format_round_trip_plain_and_gzip() -> None:
    batch = Batch(seq=42, ids=(1, 2), lines=LINES)
    for use_gzip, content_type in ((False, CONTENT_TYPE), (True, CONTENT_TYPE_GZIP)):
        payload, properties = encode_batch(batch, use_gzip)
        user = dict(properties.UserProperty)  # type: ignore[attr-defined]
        assert user == {"seq": "42", "n": "2", "v": "1"}
        assert properties.ContentType == content_type  # type: ignore[attr-defined]
        decoded = decode_message("edge/cbn-gw-01/data", payload, user, content_type)
        assert decoded.seq == 42 and decoded.bad_lines == []
        assert decoded.lines == [
            "ap,device=ap-1,gateway=cbn-gw-01 up=true 10",
            "device_status,device=ap-1,gateway=cbn-gw-01 up=true,latency_ms=2.5 11",
        ]
        assert decoded.newest_time_ns == 11


def test_a_gateway_cannot_write_as_another() -> None:
    payload = b"ap,device=ap-1,gateway=cbn-gw-99 up=true 10\n"
    decoded = decode_message("edge/cbn-gw-01/data", payload, props(n=1), CONTENT_TYPE)
    assert decoded.lines == ["ap,device=ap-1,gateway=cbn-gw-01 up=true 10"]


def test_bad_lines_are_set_apart_and_the_rest_kept() -> None:
    payload = b"ap,device=ap-1 up=true 10\nnot line protocol\n"
    decoded = decode_message("edge/g1/data", payload, props(n=2), CONTENT_TYPE)
    assert decoded.lines == ["ap,device=ap-1,gateway=g1 up=true 10"]
    assert [line for line, _ in decoded.bad_lines] == ["not line protocol"]


@pytest.mark.parametrize(
    ("topic", "payload", "properties", "content_type", "reason"),
    [
        ("edge/g1/status", b"x", props(), CONTENT_TYPE, "topic"),
        ("edge/bad id/data", b"x", props(), CONTENT_TYPE, "topic"),
        ("edge/g1/data", b"a x=1 1\n", {"n": "1", "v": "1"}, CONTENT_TYPE, "seq and n"),
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
        decode_message(topic, payload, properties, content_type)


def test_gzip_payload_is_accepted() -> None:
    payload = gzip.compress(b"a x=1i 1\n")
    assert decode_message("edge/g1/data", payload, props(n=1), CONTENT_TYPE_GZIP).lines == [
        "a,gateway=g1 x=1i 1"
    ]


def test_accounting_counts_gaps_and_duplicates() -> None:
    account = GatewayAccount()
    for seq in (1, 2, 2, 5, 3, 6):
        account.record(decode_message("edge/g1/data", b"a x=1i 1\n", props(seq=seq, n=1), CONTENT_TYPE))
    assert (account.batches, account.points, account.last_seq) == (6, 6, 6)
    assert account.gaps == 1  # 4 is still missing; 3 arrived late and filled its gap
    assert account.duplicates == 1  # the second 2


def test_ingest_readings_per_gateway() -> None:
    accounts = Accounts()
    accounts.of("g2").points = 5
    accounts.of("g1").gaps = 1
    readings = accounts.readings("bridge-1", 123)
    assert [r.tags["gateway"] for r in readings] == ["g1", "g2"]
    assert readings[1].fields["points"] == 5 and readings[0].fields["gaps"] == 1
    assert all(r.measurement == "ingest" and r.time_ns == 123 for r in readings)
