"""The polled bus owner over a fake port: gap, serialised requests, backoff, port loss and scheduling."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Sequence
from typing import Any

import pytest

from edge_gateway.agent.collectors.serial import build_bus
from edge_gateway.agent.collectors.serial.bus import PolledBus
from edge_gateway.agent.collectors.serial.config import SerialBus
from edge_gateway.agent.collectors.serial.timing import inter_frame_gap_s
from edge_gateway.agent.scheduler import SourceHealth, next_slot_s
from edge_gateway.core.model import Reading
from edge_gateway.core.validation import validate
from tests.collectors.serial.fakes import FakePort, FakeSlaves, Plug


def bus_config(
    *slaves: tuple[int, str], baud: int = 9600, interval_s: float = 1.0, **extra: Any
) -> SerialBus:
    sensors = [
        {
            "name": f"s{slave}",
            "driver": "modbus-rtu",
            "options": {"slave": slave, "map": map_name},
            "interval_s": interval_s,
            "timeout_s": 0.02,
        }
        for slave, map_name in slaves
    ]
    return validate(
        SerialBus, {"name": "rs485", "port": "/dev/fake", "baud": baud, "sensors": sensors, **extra}
    )


def polled(config: SerialBus, open_port: Any) -> PolledBus:
    owner = build_bus(config, "Simpang Test", open_port)
    assert isinstance(owner, PolledBus)
    return owner


def status(readings: Sequence[Reading], device: str) -> dict[str, Any]:
    found = [r for r in readings if r.measurement == "device_status" and r.tags["device"] == device]
    assert len(found) == 1
    return dict(found[0].fields)


def test_gap_is_the_modbus_silence() -> None:
    assert inter_frame_gap_s(9600) == pytest.approx(3.5 * 11 / 9600)
    assert inter_frame_gap_s(1200) == pytest.approx(0.0320833, rel=1e-4)
    assert inter_frame_gap_s(115200) == pytest.approx(0.00175)


async def test_each_request_waits_for_the_gap_after_the_last_answer() -> None:
    slaves = FakeSlaves()
    port = FakePort(slaves)
    owner = polled(bus_config((1, "xy-md02"), (4, "di8"), baud=1200), lambda: port)
    for _ in range(2):
        await owner.poll_round(owner.sensors, SourceHealth())
    writes = [at for at, _ in port.writes]
    assert len(writes) == 6  # 1 request for slave 1, 2 for slave 4, twice
    for write_s in writes[1:]:
        last_answer_s = max(at for at in port.deliveries if at < write_s)
        assert write_s - last_answer_s >= owner.gap_s * (1 - 1e-6)


async def test_requests_go_out_one_at_a_time_in_order() -> None:
    slaves = FakeSlaves()
    port = FakePort(slaves)
    owner = polled(bus_config((1, "xy-md02"), (2, "pm"), (4, "di8")), lambda: port)
    readings = await owner.poll_round(owner.sensors, SourceHealth())
    assert slaves.asked == [1, 2, 4, 4]
    weather = next(r for r in readings if r.measurement == "weather")
    assert weather.fields == {"temp_c": 10.1, "rh_pct": 10.2}
    assert weather.tags == {"site": "Simpang Test", "sensor": "s1", "bus": "rs485"}
    bus = next(r for r in readings if r.measurement == "serial_bus")
    assert bus.fields["requests"] == 4 and bus.fields["timeouts"] == 0 and bus.fields["up"] is True
    assert bus.tags == {"site": "Simpang Test", "bus": "rs485"}


async def test_stale_input_before_a_request_is_dropped_not_decoded() -> None:
    slaves = FakeSlaves()
    port = FakePort(slaves)
    owner = polled(bus_config((1, "xy-md02")), lambda: port)
    port.inject(b"\x01\x04\x04\xde\xad\xbe\xef")  # a late, unrelated answer waiting in the buffer
    readings = await owner.poll_round(owner.sensors, SourceHealth())
    assert next(r for r in readings if r.measurement == "weather").fields["temp_c"] == 10.1
    assert next(r for r in readings if r.measurement == "serial_bus").fields["stale_bytes"] == 7


async def test_dead_slave_backs_off_and_the_others_keep_flowing() -> None:
    slaves = FakeSlaves()
    slaves.silent.add(3)
    port = FakePort(slaves)
    owner = polled(
        bus_config((1, "xy-md02"), (3, "noise"), interval_s=0.05, down_backoff_max_s=0.2), lambda: port
    )
    rounds = [await owner.poll_round(owner.sensors, SourceHealth()) for _ in range(12)]
    # Tries after 0, 1 and 3 skipped cycles, then at most down_backoff_max_s / interval_s - 1 = 3 skipped.
    assert slaves.asked.count(3) == 5
    assert slaves.asked.count(1) == 12
    assert all(status(r, "s1")["up"] for r in rounds)
    dead = [status(r, "s3") for r in rounds]
    assert not any(s["up"] for s in dead) and all(s["stale"] for s in dead)
    assert dead[0]["error"] == "no answer within 0.02 s (request 1 of 1)"
    assert dead[2]["error"].startswith("backing off after 2 failures")
    assert dead[-1]["timeouts"] == 5
    slaves.silent.clear()
    answered = [status(await owner.poll_round(owner.sensors, SourceHealth()), "s3")["up"] for _ in range(4)]
    assert answered[-1] is True and answered.count(True) >= 1


async def test_a_sensor_with_several_requests_stops_at_the_first_unanswered() -> None:
    slaves = FakeSlaves()
    slaves.silent.add(4)
    port = FakePort(slaves)
    owner = polled(bus_config((4, "di8")), lambda: port)
    await owner.poll_round(owner.sensors, SourceHealth())
    assert slaves.asked == [4]


async def test_unplugged_port_is_reopened_and_does_not_count_against_sensors() -> None:
    plug = Plug(FakeSlaves())
    owner = polled(bus_config((1, "xy-md02"), (2, "pm")), plug.open)
    health = SourceHealth()
    assert status(await owner.poll_round(owner.sensors, health), "s1")["up"] is True
    plug.unplug()
    lost = await owner.poll_round(owner.sensors, health)
    assert status(lost, "s1")["error"] == "port lost: PortError: hangup"
    assert status(lost, "s2")["error"].startswith("port down")
    down = await owner.poll_round(owner.sensors, health)
    assert status(down, "s1")["error"] == "port down: PortError: cannot open /dev/fake: no such file"
    assert next(r for r in down if r.measurement == "serial_bus").fields["up"] is False
    assert "serial[rs485]" in health.failing
    plug.plugged = True
    back = await owner.poll_round(owner.sensors, health)
    assert status(back, "s1")["up"] is True and status(back, "s2")["up"] is True
    assert status(back, "s1")["failures"] == 0
    assert plug.ports[0].closed and len(plug.ports) == 2
    assert health.failing == {}


def test_next_slot_skips_missed_slots_instead_of_bunching() -> None:
    assert next_slot_s(10.0, 1.0, 10.5) == 11.0
    assert next_slot_s(10.0, 1.0, 13.2) == 14.0
    assert next_slot_s(10.0, 1.0, 11.0) == 12.0


WAKE_LATE_S = 0.001


class JumpingSelector(selectors.DefaultSelector):
    """Never waits: when nothing is ready, the time the loop would have slept passes at once, plus
    WAKE_LATE_S as on a real machine (timers a rounding error apart then fire together, as they do)."""

    def __init__(self) -> None:
        super().__init__()
        self.now_s = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("nothing is scheduled and nothing can arrive: the test would hang")
        self.now_s += timeout + WAKE_LATE_S
        return ready


class SimulatedTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on simulated time, so a schedule is checked exactly however loaded the machine is."""

    def __init__(self) -> None:
        self.selector = JumpingSelector()
        super().__init__(self.selector)

    def time(self) -> float:
        return self.selector.now_s


def test_run_polls_each_sensor_on_its_own_interval_and_sinks_once_per_round() -> None:
    config = validate(
        SerialBus,
        {
            "name": "rs485",
            "port": "/dev/fake",
            "sensors": [
                {
                    "name": "fast",
                    "driver": "modbus-rtu",
                    "options": {"slave": 1, "map": "xy-md02"},
                    "interval_s": 0.1,
                },
                {
                    "name": "slow",
                    "driver": "modbus-rtu",
                    "options": {"slave": 2, "map": "pm"},
                    "interval_s": 0.2,
                },
            ],
        },
    )
    owner = polled(config, lambda: FakePort(FakeSlaves()))
    rounds: list[set[str]] = []

    async def six_rounds() -> None:
        done = asyncio.Event()

        async def sink(readings: Sequence[Reading]) -> None:
            rounds.append({r.tags["device"] for r in readings if r.measurement == "device_status"})
            if len(rounds) == 6:
                done.set()

        task = asyncio.create_task(owner.run(sink, SourceHealth()))
        async with asyncio.timeout(10):  # simulated seconds
            await done.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with asyncio.Runner(loop_factory=SimulatedTimeLoop) as runner:
        runner.run(six_rounds())
    assert rounds == [{"fast", "slow"}, {"fast"}] * 3
