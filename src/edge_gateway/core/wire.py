"""The MQTT wire contract between a gateway and the NOC, in one place (docs/wire-format.md).

The agent publishes with these names and the bridge parses with them: a topic, a user property or a
content type changed here changes on both sides at once, instead of drifting apart in two rooms.
"""

from __future__ import annotations

import re
from typing import Final

# Topics. `{gateway_id}` is the gateway's `gateway.id`; the broker's ACL confines each gateway to its own.
TOPIC_ROOT: Final = "edge"
DATA: Final = "data"  # readings, line protocol, QoS 1, never retained
STATUS: Final = "status"  # retained JSON state; the Last Will says `offline`
CONFIG: Final = "config"  # retained, signed remote configuration from the NOC (docs/fleet.md)

# Subscriptions of the NOC side: every gateway's data and status.
ALL_DATA: Final = f"{TOPIC_ROOT}/+/{DATA}"
ALL_STATUS: Final = f"{TOPIC_ROOT}/+/{STATUS}"
# What the bridge parses a data topic with; the gateway id is checked against the id pattern apart.
DATA_TOPIC: Final = re.compile(rf"^{TOPIC_ROOT}/(?P<gateway>[^/]+)/{DATA}$")
STATUS_TOPIC: Final = re.compile(rf"^{TOPIC_ROOT}/(?P<gateway>[^/]+)/{STATUS}$")


def data_topic(gateway_id: str) -> str:
    return f"{TOPIC_ROOT}/{gateway_id}/{DATA}"


def status_topic(gateway_id: str) -> str:
    return f"{TOPIC_ROOT}/{gateway_id}/{STATUS}"


def probe_request_topic(gateway_id: str) -> str:
    """The NOC's signed probe requests to one gateway (MQTT 5 request/response, docs/fleet.md)."""
    return f"{TOPIC_ROOT}/{gateway_id}/probe/request"


def probe_response_topic(gateway_id: str) -> str:
    return f"{TOPIC_ROOT}/{gateway_id}/probe/response"


def config_topic(gateway_id: str) -> str:
    """Retained, QoS 1: a gateway that was offline during a push gets it when it comes back."""
    return f"{TOPIC_ROOT}/{gateway_id}/{CONFIG}"


def shared_data_subscription(group: str) -> str:
    """The bridges of one group share the data stream: each batch reaches one of them."""
    return f"$share/{group}/{ALL_DATA}"


# User properties of a data message.
PROP_SEQ: Final = "seq"  # the batch's sequence number, for gap and duplicate accounting
PROP_COUNT: Final = "n"  # how many lines the batch carries
PROP_VERSION: Final = "v"  # the wire format version below
FORMAT_VERSION: Final = "1"
SUPPORTED_VERSIONS: Final = frozenset({FORMAT_VERSION})

# Content types of a data message.
CONTENT_TYPE_LINES: Final = "text/plain; charset=utf-8"  # line protocol, UTF-8
CONTENT_TYPE_GZIP: Final = "application/gzip"  # the same, one gzip member

# `state` of the retained status.
ONLINE: Final = "online"  # connected (refreshed while connected)
STOPPED: Final = "stopped"  # a clean shutdown said goodbye
OFFLINE: Final = "offline"  # the Last Will: the connection was lost
GATEWAY_STATES: Final = (ONLINE, OFFLINE, STOPPED)

# The signed remote configuration's envelope (`format` of its JSON).
CONFIG_FORMAT_VERSION: Final = 1
