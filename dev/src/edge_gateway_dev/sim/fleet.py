"""`edge sim fleet`: the whole simulated field on loopback, and an agent config that lists it.

Access points answer real SNMP on 127.0.0.1 (edge_gateway_dev.sim.snmp); intersections speak real bytes on
pseudo-terminals linked from one folder (edge_gateway_dev.sim.serial). The same seed gives the same fleet:
names, vendors, sites, credentials and behaviour; only the UDP ports and the pty numbers differ. One
clock (edge_gateway_dev.sim.clock) drives every device: the wall clock, or a simulated instant and speed-up
(`--clock`, `--time-scale`, or EDGE_SIM_CLOCK / EDGE_SIM_TIME_SCALE) so the field can be put at night.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from edge_gateway_dev.sim.camera.fleet import (
    CameraHandle,
    CameraSpec,
    camera_device,
    make_camera_specs,
    run_cameras,
)
from edge_gateway_dev.sim.camera.fleet import set_faults as set_camera_faults
from edge_gateway_dev.sim.clock import Clock, format_instant, resolve_clock, wall_clock
from edge_gateway_dev.sim.serial import (
    PORTS,
    IntersectionHandle,
    IntersectionSpec,
    make_intersection_specs,
    run_intersections,
)
from edge_gateway_dev.sim.serial.faults import parse_faults as parse_port_faults
from edge_gateway_dev.sim.snmp import ApHandle, ApSpec, make_fleet_specs, run_fleet
from edge_gateway_dev.sim.snmp.spec import parse_faults as parse_ap_faults

# The Modbus slaves of every intersection's RS-485 bus (docs/sensor-protocols.md): suffix, address, map.
CIREBON_DEG = (-6.7063, 108.5570)
MODBUS_SENSORS = (("th", 1, "xy-md02"), ("pm", 2, "pm"), ("noise", 3, "noise"), ("loops", 4, "di8"))


class FleetFaultError(ValueError):
    """A --faults item naming no device of the fleet, or a fault the device does not know."""


@dataclass(frozen=True)
class Field:
    aps: list[ApHandle]
    intersections: list[IntersectionHandle]
    port_dir: Path
    cameras: tuple[CameraHandle, ...] = ()


def apply_faults(
    text: str,
    ap_specs: list[ApSpec],
    intersection_specs: list[IntersectionSpec],
    camera_specs: tuple[CameraSpec, ...] = (),
) -> None:
    """`NAME:FAULTS;NAME:FAULTS`, e.g. `ap-003:no_reply;cbn-int-02:rs485.silent=3,gps.garbage=0.1`."""
    aps = {spec.name: spec for spec in ap_specs}
    cameras = {spec.name: spec for spec in camera_specs}
    intersections = {spec.name: spec for spec in intersection_specs}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, faults = item.partition(":")
        try:
            if name in aps:
                aps[name].faults = parse_ap_faults(faults)
            elif name in intersections:
                intersections[name].faults = parse_port_faults(faults, PORTS)
            elif name in cameras:
                set_camera_faults(cameras[name], faults)
            else:
                raise FleetFaultError(f"{name!r} is no device of this fleet")
        except ValueError as exc:
            raise FleetFaultError(f"--faults {item!r}: {exc}") from exc


@contextlib.asynccontextmanager
async def run_field(
    aps: int,
    intersections: int,
    seed: int,
    faults: str,
    port_dir: Path,
    clock: Clock = wall_clock,
    cameras: int = 0,
) -> AsyncIterator[Field]:
    """Serve the fleet in the running event loop for the duration of the block (`port_dir` must exist),
    every device on `clock`; `cameras` run a real RTSP server (edge_gateway_dev.sim.camera)."""
    ap_specs = make_fleet_specs(aps, seed)
    intersection_specs = make_intersection_specs(intersections, seed)
    camera_specs = tuple(make_camera_specs(cameras, intersection_specs, seed))
    apply_faults(faults, ap_specs, intersection_specs, camera_specs)
    async with (
        run_fleet(ap_specs, clock=clock) as ap_handles,
        run_intersections(intersection_specs, port_dir, clock=clock) as crossings,
        run_cameras(list(camera_specs), port_dir / "cameras") as camera_handles,
    ):
        yield Field(ap_handles, crossings, port_dir, tuple(camera_handles))


def _present(keys: dict[str, object]) -> dict[str, object]:
    """The keys with a value: TOML has no null, an absent key takes the config's default."""
    return {key: value for key, value in keys.items() if value is not None}


def _ap_device(ap: ApHandle, interval_s: float) -> dict[str, object]:
    info = ap.describe()
    device: dict[str, object] = {
        "name": ap.name,
        "host": f"{ap.host}:{ap.port}",
        "site": info["location"] or None,
    }
    v3 = info["v3"]
    if isinstance(v3, dict):
        device |= {"version": "3", "user": v3["user"]}
        if v3["auth_key"]:
            device |= {"auth_protocol": str(v3["auth_protocol"]).lower(), "auth_key": v3["auth_key"]}
        if v3["priv_key"]:
            device |= {"priv_protocol": str(v3["priv_protocol"]).lower(), "priv_key": v3["priv_key"]}
    else:
        device |= {"version": "2c", "community": info["community"]}
    return device | _position(ap.name) | {"interval_s": interval_s}


def _position(name: str) -> dict[str, object]:
    """A stable spot within about 3 km of Cirebon's centre, from the AP's name, for the NOC map."""
    digest = hashlib.sha256(name.encode()).digest()
    lat = CIREBON_DEG[0] + (digest[0] / 255 - 0.5) * 0.05
    lon = CIREBON_DEG[1] + (digest[1] / 255 - 0.5) * 0.05
    return {"lat": round(lat, 5), "lon": round(lon, 5)}


def _buses(crossing: IntersectionHandle, interval_s: float) -> list[dict[str, object]]:
    name, site = crossing.spec.name, crossing.spec.site
    # Every bus of the crossing is at the crossing: its sensors are placed there on the NOC map.
    at = {"site": site, "lat": crossing.spec.lat_deg, "lon": crossing.spec.lon_deg}
    modbus = [
        {
            "name": f"{name}-{suffix}",
            "driver": "modbus-rtu",
            "options": {"slave": slave, "map": register_map},
            "interval_s": interval_s,
        }
        for suffix, slave, register_map in MODBUS_SENSORS
    ]
    gps = {"name": f"{name}-gps", "driver": "nmea", "interval_s": interval_s}
    radar = {"name": f"{name}-radar", "driver": "radar", "options": {"address": crossing.spec.radar_address}}
    buses: list[tuple[str, list[dict[str, object]]]] = [
        ("rs485", modbus),
        ("gps", [gps]),
        ("radar", [radar | {"interval_s": interval_s}]),
    ]
    return [
        _present({"name": f"{name}-{kind}", "port": str(crossing.paths[kind])} | at | {"sensors": sensors})
        for kind, sensors in buses
    ]


def agent_config(field: Field, gateway_id: str, broker_url: str, buffer_path: Path, interval_s: float) -> str:
    """A ready agent config (TOML) polling every device of the field."""
    document: dict[str, object] = {
        "gateway": {"id": gateway_id, "site": "Cirebon"},
        "uplink": {"url": broker_url},
        "buffer": {"path": str(buffer_path)},
    }
    if field.aps:
        document["snmp"] = {"devices": [_present(_ap_device(ap, interval_s)) for ap in field.aps]}
    if field.intersections:
        document["serial"] = {"buses": [bus for c in field.intersections for bus in _buses(c, interval_s)]}
    if field.cameras:
        document["camera"] = {"devices": [_present(camera_device(cam, interval_s)) for cam in field.cameras]}
    header = (
        "# Written by `edge sim fleet`: the simulated field on loopback. Check it with `edge check-config`.\n"
    )
    return header + tomli_w.dumps(document)


def serve(args: FleetArgs) -> int:
    """Run the field until SIGINT or SIGTERM; write the agent config as soon as every device answers."""
    args.port_dir.mkdir(parents=True, exist_ok=True)
    try:
        clock = resolve_clock(args.clock, args.time_scale)
    except ValueError as exc:
        print(f"edge sim fleet: {exc}", file=sys.stderr)
        return 2
    when = "the wall clock" if clock is wall_clock else f"simulated time from {clock!r}"

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with run_field(
            args.aps, args.intersections, args.seed, args.faults, args.port_dir, clock, args.cameras
        ) as field:
            text = agent_config(field, args.gateway_id, args.broker_url, args.buffer_path, args.interval_s)
            tmp = args.config_out.with_name(args.config_out.name + ".tmp")
            tmp.write_text(text)
            tmp.replace(args.config_out)  # whoever waits for the file never reads half of it
            ports = sorted(ap.port for ap in field.aps)
            print(
                f"edge sim fleet: {len(field.aps)} APs on 127.0.0.1 (UDP {ports[0] if ports else '-'}-"
                f"{ports[-1] if ports else '-'}), {len(field.intersections)} intersections with ports in "
                f"{args.port_dir}, {len(field.cameras)} cameras; agent config in {args.config_out}; {when} "
                f"(now {format_instant(clock())}). Ctrl-C stops.",
                flush=True,
            )
            await stop.wait()

    try:
        asyncio.run(main())
    except FleetFaultError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


@dataclass(frozen=True)
class FleetArgs:
    aps: int
    intersections: int
    seed: int
    faults: str
    config_out: Path
    port_dir: Path
    gateway_id: str
    broker_url: str
    buffer_path: Path
    interval_s: float
    clock: str | None = None  # ISO 8601 instant the field's time starts at; None: EDGE_SIM_CLOCK or now
    time_scale: float | None = None  # simulated seconds per real second; None: EDGE_SIM_TIME_SCALE or 1
    cameras: int = 0  # CCTV cameras spread over the intersections (edge_gateway_dev.sim.camera)
