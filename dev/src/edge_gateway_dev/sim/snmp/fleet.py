"""A fleet of simulated APs on 127.0.0.1: the public entry points for tests, benchmarks and the CLI.

    specs = make_fleet_specs(50, seed=7)
    async with run_fleet(specs) as aps:          # one UDP socket per AP, free ports
        aps[0].port, aps[0].faults.delay_ms = ..., 800
        aps[0].truth().summary.clients_per_radio

`run_forever` does the same for a synchronous caller (`edge sim fleet`, `python -m
edge_gateway_dev.sim.snmp`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from edge_gateway_dev.sim.clock import Clock, wall_clock
from edge_gateway_dev.sim.snmp.agent import ApAgent, ApProtocol
from edge_gateway_dev.sim.snmp.model import ApModel, ApTruth
from edge_gateway_dev.sim.snmp.spec import AgentStats, ApSpec, Faults
from edge_gateway_dev.sim.snmp.usm import V3User

VENDOR_SHARES = (("mikrotik", 0.50), ("unifi", 0.20), ("airmax", 0.15), ("generic", 0.15))
_SITES = (
    "Alun-alun Kejaksan",
    "Taman Sutera",
    "Pasar Kanoman",
    "Keraton Kasepuhan",
    "Stasiun Kejaksan",
    "Grage Mall",
    "Terminal Harjamukti",
    "Pelabuhan Cirebon",
)


@dataclass(slots=True)
class ApHandle:
    """A running AP: where to poll it, how, and the knobs and truth behind it."""

    spec: ApSpec
    host: str
    port: int
    model: ApModel
    agent: ApAgent

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def vendor(self) -> str:
        return self.spec.vendor

    @property
    def faults(self) -> Faults:
        return self.spec.faults

    @property
    def stats(self) -> AgentStats:
        return self.agent.stats

    @property
    def engine_id(self) -> bytes:
        return self.model.engine_id

    def reboot(self) -> None:
        self.model.reboot()

    def truth(self, time_s: float | None = None) -> ApTruth:
        return self.model.truth(time_s)

    def describe(self) -> dict[str, object]:
        """JSON-ready description, e.g. for writing an agent config."""
        v3 = self.spec.v3
        return {
            "name": self.name,
            "vendor": self.vendor,
            "host": self.host,
            "port": self.port,
            "location": self.spec.location,
            "community": self.spec.community,
            "v3": None
            if v3 is None
            else {
                "user": v3.user,
                "auth_protocol": v3.auth_protocol if v3.auth_key else None,
                "auth_key": v3.auth_key,
                "priv_protocol": v3.priv_protocol if v3.priv_key else None,
                "priv_key": v3.priv_key,
                "level": v3.level,
            },
            "engine_id": self.engine_id.hex(),
        }


def _vendor_counts(n_aps: int) -> dict[str, int]:
    """Largest-remainder split of n_aps by VENDOR_SHARES, so every n gets the mix as near as it can."""
    exact = {vendor: share * n_aps for vendor, share in VENDOR_SHARES}
    counts = {vendor: int(value) for vendor, value in exact.items()}
    by_remainder = sorted(exact, key=lambda vendor: exact[vendor] - counts[vendor], reverse=True)
    for vendor in by_remainder[: n_aps - sum(counts.values())]:
        counts[vendor] += 1
    return counts


def make_fleet_specs(n_aps: int, seed: int) -> list[ApSpec]:
    """A deterministic fleet: ~50% MikroTik, 20% UniFi, 15% airMAX, 15% generic; every 4th AP is v3.

    v3 APs alternate authPriv (SHA + AES-128) and authNoPriv (SHA), with passwords derived from the seed;
    the others answer v2c with community 'public'.
    """
    rng = random.Random(seed)
    vendors = [vendor for vendor, count in _vendor_counts(n_aps).items() for _ in range(count)]
    rng.shuffle(vendors)
    specs = []
    for i, vendor in enumerate(vendors):
        name = f"ap-{i + 1:03d}"
        v3 = None
        community: str | None = "public"
        if i % 4 == 3:
            secret = f"{seed:x}{i:04d}{rng.randrange(16**6):06x}"
            with_priv = (i // 4) % 2 == 0
            v3 = V3User(
                "edge-noc", auth_key=f"auth-{secret}", priv_key=f"priv-{secret}" if with_priv else None
            )
            community = None
        site = _SITES[i % len(_SITES)]
        specs.append(ApSpec(name, vendor, seed * 1000 + i, community, v3, location=site))
    return specs


async def start_fleet(
    specs: list[ApSpec], host: str = "127.0.0.1", clock: Clock = wall_clock
) -> tuple[list[ApHandle], Callable[[], None]]:
    """Bind every AP on `host`, free ports; return the handles and a function that closes them."""
    loop = asyncio.get_running_loop()
    handles: list[ApHandle] = []
    transports: list[asyncio.BaseTransport] = []

    def close() -> None:
        for transport in transports:
            transport.close()

    try:
        for spec in specs:
            model = ApModel(spec, clock)
            agent = ApAgent(model)
            transport, _ = await loop.create_datagram_endpoint(
                functools.partial(ApProtocol, agent), local_addr=(host, 0)
            )
            transports.append(transport)
            port = int(transport.get_extra_info("sockname")[1])
            handles.append(ApHandle(spec, host, port, model, agent))
    except BaseException:
        close()
        raise
    return handles, close


@contextlib.asynccontextmanager
async def run_fleet(
    specs: list[ApSpec], host: str = "127.0.0.1", clock: Clock = wall_clock
) -> AsyncIterator[list[ApHandle]]:
    """Serve `specs` in the running event loop for the duration of the block."""
    handles, close = await start_fleet(specs, host, clock)
    try:
        yield handles
    finally:
        close()


def run_forever(
    specs: list[ApSpec],
    on_ready: Callable[[list[ApHandle]], None],
    host: str = "127.0.0.1",
    clock: Clock = wall_clock,
) -> None:
    """Blocking entry point for a synchronous caller: serve until SIGINT/SIGTERM, then close cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with run_fleet(specs, host, clock) as handles:
            on_ready(handles)
            await stop.wait()

    asyncio.run(main())
