"""When the boards call a device up: seen up within the last two poll intervals, not "the last value
in the time range". A gateway killed with `kill -9` sends nothing more; with the last value its APs
would stay green for the whole time range. Within the window a device is up or down as it last said;
seen in the time range but not within the window it is *not heard from* (unknown: its gateway is
offline or behind, or the device left the config), drawn grey, never green.

The window is a dashboard setting (`$up_window`), two of the default poll interval to start with:
an operator whose APs poll every 5 minutes picks 15m.
"""

from __future__ import annotations

from edge_gateway.core.config import DEFAULT_SNMP_INTERVAL_S
from edge_gateway.noc.model import Choice

DEFAULT_INTERVAL_S = int(DEFAULT_SNMP_INTERVAL_S)
UP_WINDOW = Choice(
    "up_window",
    "Up if seen within",
    (f"{2 * DEFAULT_INTERVAL_S}s", "2m", "5m", "15m"),
    description="A device counts as up or down only if it reported within this window: two poll intervals.",
)
SEEN_RECENTLY = "time > now() - $up_window"
