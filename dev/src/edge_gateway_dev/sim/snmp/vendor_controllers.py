"""The APs a simulated wireless controller manages: names, MACs and clients per radio at a moment.

Shared by the controller simulators (Ruckus ZoneDirector and SmartZone, Huawei AC): each lays the same
managed APs out in its own MIB's tables, so their summaries mean the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway_dev.sim.snmp.dynamics import ClientPool, unit
from edge_gateway_dev.sim.snmp.mib_common import Moment, mac_of

RADIOS = (1, 2)  # 2.4 GHz, 5 GHz
CHANNELS = {1: (1, 6, 11), 2: (36, 44, 149)}


@dataclass(frozen=True, slots=True)
class ManagedAp:
    name: str
    mac: bytes
    pools: dict[int, ClientPool]  # per radio
    channels: dict[int, int]

    def clients(self, moment: Moment) -> dict[int, int]:
        return {radio: len(pool.sessions(moment.time_s, moment.boot_s)) for radio, pool in self.pools.items()}


def managed_aps(seed: int, controller: str, count: int) -> list[ManagedAp]:
    """`count` APs named after the controller (`zd-1-ap01`), each with a 2.4 GHz and a 5 GHz radio."""
    aps = []
    for number in range(1, count + 1):
        key = f"ap{number:02d}"
        aps.append(
            ManagedAp(
                name=f"{controller}-{key}",
                mac=mac_of(seed, key),
                pools={radio: ClientPool(seed, f"{key}/r{radio}", 8 + 6 * radio, 0.7) for radio in RADIOS},
                channels={r: CHANNELS[r][int(unit(seed, f"{key}/ch{r}") * 3)] for r in RADIOS},
            )
        )
    return aps
