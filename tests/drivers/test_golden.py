"""Golden cases: bytes from a hex dump through a driver, compared with the expected line protocol.

Layout (Telegraf's `testcases/`): `cases/<driver>/<case>/` holds `input.hex`, `expected.lp` and an
optional `case.toml`. In `input.hex`, `#` starts a comment and whitespace is free; each non-empty
line is one `feed()` call, so a frame spread over lines arrives split across reads; a line `---`
starts the answer to the next request of the cycle (request/response drivers call `expect()` with
`requests()[i]` before each answer). `case.toml` may set `options` (the driver's, as in the agent's
config), `tags`, `time_ns` and `stats` (counters the driver must end with).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from edge_gateway.core.lineproto import encode_many
from edge_gateway.drivers.registry import create

CASES = Path(__file__).parent / "cases"
TAGS = {"gateway": "gw-01", "site": "kejaksan", "sensor": "s1", "bus": "port0"}
TIME_NS = 1_763_884_800_000_000_000  # 2025-11-23T08:00:00Z


def read_exchanges(path: Path) -> list[list[bytes]]:
    """The feeds of each answer in an input.hex file."""
    exchanges: list[list[bytes]] = [[]]
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line == "---":
            exchanges.append([])
        elif line:
            exchanges[-1].append(bytes.fromhex(line))
    return exchanges


def _cases() -> list[Path]:
    return sorted(path for path in CASES.glob("*/*") if path.is_dir())


@pytest.mark.parametrize("case", _cases(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_golden_case(case: Path) -> None:
    meta: dict[str, Any] = {}
    if (case / "case.toml").exists():
        meta = tomllib.loads((case / "case.toml").read_text())
    driver = create(case.parent.name, meta.get("options", {}))
    requests = driver.requests()
    frames: list[Any] = []
    for index, feeds in enumerate(read_exchanges(case / "input.hex")):
        if requests:
            driver.expect(requests[index % len(requests)])
        for data in feeds:
            frames.extend(driver.feed(data))
    readings = driver.readings(frames, meta.get("tags", TAGS), meta.get("time_ns", TIME_NS))
    expected = [line for line in (case / "expected.lp").read_text().splitlines() if line.strip()]
    assert encode_many(readings) == expected
    for name, value in meta.get("stats", {}).items():
        assert getattr(driver.stats, name) == value, name


def test_every_driver_has_golden_cases() -> None:
    from edge_gateway.drivers.registry import DRIVERS

    assert {path.parent.name for path in _cases()} == set(DRIVERS)
