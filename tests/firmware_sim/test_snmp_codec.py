"""BER round trips and USM primitives (RFC 3414 A.3 key localisation vectors, RFC 3826 AES)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_gateway_dev.sim.snmp import ber, usm

MAPLESYRUP_ENGINE_ID = bytes.fromhex("000000000000000000000002")


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integer_round_trip(value: int) -> None:
    encoded = ber.encode_int(value)
    tag, start, stop = ber.read_tlv(encoded, 0, len(encoded))
    assert tag == ber.INTEGER
    assert ber.decode_int(encoded, start, stop) == value
    # minimal: no redundant leading 0x00 / 0xFF octet
    body = encoded[start:stop]
    assert len(body) == 1 or not ((body[0] == 0 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80))


@pytest.mark.parametrize(
    ("value", "hex_body"),
    [(0, "00"), (127, "7f"), (128, "0080"), (-1, "ff"), (-128, "80"), (-129, "ff7f"), (256, "0100")],
)
def test_integer_known_encodings(value: int, hex_body: str) -> None:
    assert ber.encode_int(value) == bytes((0x02, len(hex_body) // 2)) + bytes.fromhex(hex_body)


@given(st.integers(min_value=0, max_value=2**64 - 1), st.sampled_from([ber.COUNTER32, ber.COUNTER64]))
def test_unsigned_round_trip_keeps_high_bit_values_positive(value: int, tag: int) -> None:
    encoded = ber.encode_unsigned(tag, value)
    got_tag, start, stop = ber.read_tlv(encoded, 0, len(encoded))
    assert got_tag == tag
    assert ber.decode_value(encoded, start, stop, tag) == value


def test_counter32_max_has_leading_zero() -> None:
    assert ber.encode_unsigned(ber.COUNTER32, 2**32 - 1) == bytes.fromhex("410500ffffffff")


@given(
    st.tuples(st.integers(0, 2), st.integers(0, 39)),
    st.lists(st.integers(min_value=0, max_value=2**32 - 1), max_size=20),
)
def test_oid_round_trip(head: tuple[int, int], tail: list[int]) -> None:
    oid = (*head, *tail)
    encoded = ber.encode_oid(oid)
    _, start, stop = ber.read_tlv(encoded, 0, len(encoded))
    assert ber.decode_oid(encoded, start, stop) == oid


def test_oid_known_encoding() -> None:
    # 1.3.6.1.4.1.14988 : 14988 = 0x3a8c -> 0xf5 0x0c in base 128
    assert ber.encode_oid((1, 3, 6, 1, 4, 1, 14988)) == bytes.fromhex("06072b06010401f50c")


@pytest.mark.parametrize("size", [0, 127, 128, 255, 256, 70000])
def test_long_lengths_round_trip(size: int) -> None:
    encoded = ber.tlv(ber.OCTET_STRING, b"x" * size)
    tag, start, stop = ber.read_tlv(encoded, 0, len(encoded))
    assert (tag, stop - start, stop) == (ber.OCTET_STRING, size, len(encoded))


def test_truncated_tlv_is_rejected() -> None:
    encoded = ber.tlv(ber.OCTET_STRING, b"abcdef")
    with pytest.raises(ber.BerError):
        ber.read_tlv(encoded[:-1], 0, len(encoded) - 1)


def test_rfc3414_a3_md5_key_localisation() -> None:
    ku = usm.password_to_key("maplesyrup", "MD5")
    assert ku.hex() == "9faf3283884e92834ebc9847d8edd963"
    assert usm.localize_key(ku, MAPLESYRUP_ENGINE_ID, "MD5").hex() == "526f5eed9fcce26f8964c2930787d82b"


def test_rfc3414_a3_sha_key_localisation() -> None:
    ku = usm.password_to_key("maplesyrup", "SHA")
    assert ku.hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    kul = usm.localize_key(ku, MAPLESYRUP_ENGINE_ID, "SHA")
    assert kul.hex() == "6695febc9288e36282235fc7151f128497b38f3f"


def test_short_password_and_unknown_protocol_are_refused() -> None:
    with pytest.raises(usm.UsmError):
        usm.password_to_key("short", "SHA")
    with pytest.raises(usm.UsmError):
        usm.password_to_key("long-enough", "SHA-512")


def test_aes_cfb_round_trip_is_length_preserving_and_iv_dependent() -> None:
    key = usm.localized_key("priv-secret-1", MAPLESYRUP_ENGINE_ID, "SHA")
    plain = b"scoped pdu bytes of odd length!"
    cipher_text = usm.aes_encrypt(key, 3, 1234, b"\x00" * 7 + b"\x01", plain)
    assert len(cipher_text) == len(plain) and cipher_text != plain
    assert usm.aes_decrypt(key, 3, 1234, b"\x00" * 7 + b"\x01", cipher_text) == plain
    assert usm.aes_encrypt(key, 3, 1235, b"\x00" * 7 + b"\x01", plain) != cipher_text


def test_hmac_sha_96_is_12_bytes_and_key_dependent() -> None:
    digest = usm.auth_digest(b"k" * 20, b"message", "SHA")
    assert len(digest) == 12
    assert digest != usm.auth_digest(b"j" * 20, b"message", "SHA")
