"""`down_backoff_max_s`, the setting of the one dead-device policy (core.backoff.cycles_to_skip): the
same name and the same range wherever a device can go quiet (SNMP, cameras, serial buses); only the
default differs, by how often each kind of device is polled."""

from __future__ import annotations

from typing import Any

import pytest

from edge_gateway.agent.collectors.camera.config import CameraSection
from edge_gateway.agent.collectors.serial.config import SerialBus
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.core.config import ConfigError
from edge_gateway.core.validation import validate

BUS = {
    "name": "rs485",
    "port": "/dev/ttyUSB0",
    "sensors": [{"name": "wx", "driver": "modbus-rtu", "options": {"slave": 1, "map": "xy-md02"}}],
}
SECTIONS: list[tuple[type[Any], dict[str, Any], float]] = [
    (SnmpSection, {}, 300.0),
    (CameraSection, {}, 300.0),
    (SerialBus, BUS, 60.0),
]


@pytest.mark.parametrize(("kind", "base", "default_s"), SECTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_one_name_one_range_each_its_default(kind: type[Any], base: dict[str, Any], default_s: float) -> None:
    assert validate(kind, base).down_backoff_max_s == default_s
    for accepted_s in (0, 1.5, 86_400):
        assert validate(kind, {**base, "down_backoff_max_s": accepted_s}).down_backoff_max_s == accepted_s
    for refused in (-1, 86_401, "soon"):
        with pytest.raises(ConfigError) as info:
            validate(kind, {**base, "down_backoff_max_s": refused}, "x")
        assert [p.split(": ")[0] for p in info.value.problems] == ["x.down_backoff_max_s"], (
            info.value.problems
        )
