"""SNMP polling of access points: the agent asks this package for its collectors, one per device.

Profiles are loaded and checked here, once, at start: a device naming an unknown profile, or a bad
profile file, stops the agent with the reason instead of failing at the first poll.
"""

from __future__ import annotations

import asyncio

from collectors.snmp.poller import Settings, SnmpPoller
from collectors.snmp.privacy import ClientHasher
from collectors.snmp.profile import ProfileError, load_profiles
from edge.config import AgentConfig, SnmpSection
from edge.scheduler import Collector

__all__ = ["ProfileError", "build_collectors", "settings_for"]


def settings_for(section: SnmpSection) -> Settings:
    """Profiles (built-in and `profiles_dir`) and the client hasher, validated against the devices."""
    profiles = load_profiles([section.profiles_dir] if section.profiles_dir else [])
    for device in section.devices:
        if device.profile != "auto" and device.profile not in profiles:
            known = ", ".join(sorted(profiles))
            raise ProfileError(f"snmp device {device.name}: unknown profile {device.profile!r} ({known})")
    key = section.client_hash_key
    hasher = ClientHasher(key.get_secret_value().encode()) if key else None
    return Settings(profiles, hasher, section)


def build_collectors(config: AgentConfig) -> list[Collector]:
    """One collector per configured device, sharing one limit of polls on the wire at once."""
    settings = settings_for(config.snmp)
    limit = asyncio.Semaphore(config.snmp.concurrency)
    return [SnmpPoller(device, config.gateway.site, settings, limit) for device in config.snmp.devices]
