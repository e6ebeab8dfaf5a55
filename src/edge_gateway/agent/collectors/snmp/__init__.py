"""SNMP polling of access points: the agent asks this package for its collectors, one per device.

Profiles are loaded and checked here, once, at start: a device naming an unknown profile, or a bad
profile file, stops the agent with the reason instead of failing at the first poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from edge_gateway.agent.collectors.snmp.poller import Settings, SnmpPoller
from edge_gateway.agent.collectors.snmp.privacy import ClientHasher
from edge_gateway.agent.collectors.snmp.profile import Profile, ProfileError, load_profiles, profile_names
from edge_gateway.agent.config import AgentConfig, SnmpSection
from edge_gateway.agent.scheduler import Collector

__all__ = ["ProfileError", "build_collectors", "check_profiles", "settings_for"]


def check_profiles(profiles_dir: Path | None, wanted: Iterable[tuple[str, str]]) -> dict[str, Profile]:
    """Profiles (built-in and `profiles_dir`), checked against the (device, profile) pairs named in
    the config; one ProfileError lists every bad file and every unknown name."""
    dirs = [profiles_dir] if profiles_dir else []
    try:
        profiles = load_profiles(dirs)
    except ProfileError as exc:
        problems, profiles = exc.problems, {}
    else:
        problems = []
    names = set(profiles) or profile_names(dirs)  # a bad file is reported once, as itself
    known = ", ".join(sorted(names))
    problems += [
        f"snmp device {device}: unknown profile {profile!r} ({known})"
        for device, profile in wanted
        if profile != "auto" and profile not in names
    ]
    if problems:
        raise ProfileError(*problems)
    return profiles


def settings_for(section: SnmpSection) -> Settings:
    """Profiles (built-in and `profiles_dir`) and the client hasher, validated against the devices."""
    profiles = check_profiles(section.profiles_dir, ((d.name, d.profile) for d in section.devices))
    key = section.client_hash_key
    hasher = ClientHasher(key.get_secret_value().encode()) if key else None
    return Settings(profiles, hasher, section)


def build_collectors(config: AgentConfig) -> list[Collector]:
    """One collector per configured device, sharing one limit of polls on the wire at once."""
    settings = settings_for(config.snmp)
    limit = asyncio.Semaphore(config.snmp.concurrency)
    return [SnmpPoller(device, config.gateway.site, settings, limit) for device in config.snmp.devices]
