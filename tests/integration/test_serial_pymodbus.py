"""The serial collector against pymodbus's own RTU server, over a socat pty pair."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSimulatorContext,
)
from pymodbus.server import ModbusSerialServer

from tests.integration.serial_helpers import running, sensor

pytestmark = pytest.mark.integration


@pytest.fixture
async def server_port(tmp_path: Path) -> AsyncIterator[Path]:
    """A pymodbus server on one end of a pty pair; the collector's end is yielded."""
    server_end, our_end = tmp_path / "server", tmp_path / "gateway"
    socat = await asyncio.create_subprocess_exec(
        "socat",
        f"pty,raw,echo=0,link={server_end}",
        f"pty,raw,echo=0,link={our_end}",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    task = None
    try:
        async with asyncio.timeout(10):
            while not (server_end.exists() and our_end.exists()):
                await asyncio.sleep(0.02)
        # pymodbus data blocks start at address 1 for register 0.
        devices: dict[int, ModbusDeviceContext | ModbusSimulatorContext] = {
            1: ModbusDeviceContext(ir=ModbusSequentialDataBlock(1, [0, 305, 612])),  # type: ignore[no-untyped-call]
            2: ModbusDeviceContext(hr=ModbusSequentialDataBlock(1, [25, 40])),  # type: ignore[no-untyped-call]
        }
        server = ModbusSerialServer(
            ModbusServerContext(devices=devices, single=False),
            port=str(server_end),
            baudrate=9600,
        )
        task = asyncio.create_task(server.serve_forever())
        async with asyncio.timeout(10):
            while not server.is_active():
                await asyncio.sleep(0.02)
        yield our_end
        await server.shutdown()  # type: ignore[no-untyped-call]
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        socat.terminate()
        await socat.wait()


async def test_reads_pymodbus_slaves_and_reports_exception_answers(server_port: Path) -> None:
    unmapped = {"name": "x", "function": 3, "register": 50, "measurement": "m", "field": "f"}
    sensors = [
        sensor("wx", "modbus-rtu", slave=1, map="xy-md02"),
        sensor("pm", "modbus-rtu", slave=2, map="pm"),
        sensor("ghost", "modbus-rtu", slave=5, map="pm"),
        sensor("unmapped", "modbus-rtu", slave=2, points=[unmapped]),
    ]
    async with running([{"name": "rs485", "port": str(server_port), "sensors": sensors}]) as rec:
        await rec.wait_until(lambda: len(rec.rounds) >= 8)
    weather = rec.readings("weather", "wx")
    assert len(weather) == len(rec.rounds)
    assert {(r.fields["temp_c"], r.fields["rh_pct"]) for r in weather} == {(30.5, 61.2)}
    assert {(r.fields["pm25"], r.fields["pm10"]) for r in rec.readings("air_quality", "pm")} == {(25.0, 40.0)}
    # pymodbus answers an unknown device id with exception 4 (device failure) rather than silence.
    ghost = rec.statuses("ghost")[-1]
    assert ghost["up"] is True and ghost["stale"] is True and ghost["error"] == "exception code 4"
    last = rec.statuses("unmapped")[-1]
    assert last["up"] is True and last["stale"] is True and last["error"] == "exception code 2"
