"""Dead letters stay bounded whatever arrives; quarantine follows its rule; config errors hide passwords."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from edge_gateway.bridge.config import load_bridge
from edge_gateway.bridge.deadletter_tools import body_of, records, select
from edge_gateway.bridge.deadletters import DeadLetters, Letter, Limits, rotated
from edge_gateway.bridge.quarantine import Quarantine
from edge_gateway.core.config import ConfigError


def letter(body: bytes, **kwargs: object) -> Letter:
    return Letter("malformed", "edge/g1/data", "g1", "bad", body, **kwargs)  # type: ignore[arg-type]


def test_a_zip_bomb_is_kept_as_received_and_truncated_with_its_length(tmp_path: Path) -> None:
    letters = DeadLetters(tmp_path / "dead.jsonl", Limits(2**20, 4, 4096))
    bomb = gzip.compress(b"a" * 50_000_000)
    letters.add(letter(bomb, content_type="application/gzip", as_received_gzip=True))
    letters.add(letter(b"x=1 " * 10_000))
    first, second = records(tmp_path / "dead.jsonl", 4)
    assert (tmp_path / "dead.jsonl").stat().st_size < 12_000
    assert first["length"] == len(bomb) and first["truncated"] and first["stored"] == "as-received"
    assert second["length"] == 40_000 and second["truncated"] and second["stored"] == "gzip"
    assert body_of(second) == (b"x=1 " * 10_000)[:4096]
    assert body_of(first, max_bytes=1000) == b"a" * 1000  # inflated only as far as asked
    assert letters.counts[("g1", "malformed")] == 2


def test_files_rotate_and_never_hold_more_than_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "dead.jsonl"
    letters = DeadLetters(path, Limits(40_000, 4, 1024))
    for i in range(2000):
        letters.add(letter(f"line {i} ".encode() * 50))
    sizes = [rotated(path, index).stat().st_size for index in range(4)]
    assert sum(sizes) <= 40_000 and all(size > 0 for size in sizes)
    assert not rotated(path, 4).exists()
    kept = list(records(path, 4))
    ids = [record["id"] for record in kept]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # oldest first, unique
    assert body_of(kept[-1]).startswith(b"line 1999 ")
    assert letters.counts[("g1", "malformed")] == 2000
    assert [r["id"] for r in select(path, 4, ids[:2], None, None)] == ids[:2]


def test_an_unwritable_file_costs_the_record_not_the_bridge(tmp_path: Path) -> None:
    letters = DeadLetters(tmp_path / "dead.jsonl", Limits(2**20, 2, 1024))
    (tmp_path / "dead.jsonl").mkdir()  # a directory where the file should be
    letters.add(letter(b"x"))
    assert letters.write_errors == 1 and letters.counts[("g1", "malformed")] == 1


def test_quarantine_after_repeated_refusals_within_the_window_then_release() -> None:
    quarantine = Quarantine(after=3, window_s=60, duration_s=600)
    for now_s in (0, 100, 200):  # three refusals, but never three within a minute
        quarantine.refused("g1", now_s)
    assert not quarantine.active("g1", 201)
    for now_s in (300, 310, 320):
        quarantine.refused("g1", now_s)
    assert quarantine.active("g1", 321) and quarantine.gateways(321) == ["g1"]
    assert not quarantine.active("g2", 321)
    assert not quarantine.active("g1", 920) and quarantine.gateways(920) == []


def test_a_password_in_the_mqtt_url_is_not_echoed_by_a_config_error(tmp_path: Path) -> None:
    conf = tmp_path / "bridge.toml"
    conf.write_text(
        '[mqtt]\nurl = "mqtt://bridge:S3cret-marker@broker.example:99999"\n'
        '[influxdb]\nurl = "http://127.0.0.1:8086"\ndatabase = "edge"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_bridge(conf)
    assert "mqtt.url" in str(caught.value)
    assert "S3cret-marker" not in str(caught.value) and "bridge:***@broker.example" in str(caught.value)


def test_records_are_json_lines_with_the_documented_keys(tmp_path: Path) -> None:
    letters = DeadLetters(tmp_path / "dead.jsonl", Limits(2**20, 2, 1024))
    letters.add(letter(b"a x=1i 1\n", lines=1, user_properties=(("seq", "3"),)))
    record = json.loads((tmp_path / "dead.jsonl").read_text())
    assert set(record) == {
        "id", "time_s", "topic", "gateway", "reason", "detail", "lines", "content_type",
        "user_properties", "length", "truncated", "stored", "payload",
    }  # fmt: skip
    assert record["user_properties"] == [["seq", "3"]]
