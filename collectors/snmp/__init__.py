"""SNMP polling of access points: the agent asks this package for its collectors, one per device."""

from __future__ import annotations

import asyncio

from collectors.snmp.poller import SnmpPoller
from edge.config import AgentConfig
from edge.scheduler import Collector


def build_collectors(config: AgentConfig) -> list[Collector]:
    """One collector per configured device, sharing one limit of polls on the wire at once."""
    limit = asyncio.Semaphore(config.snmp.concurrency)
    return [SnmpPoller(device, config.gateway.site, limit) for device in config.snmp.devices]
