"""SNMP polling of access points: the agent asks this package for its collectors, one per device.

Profiles are loaded and checked where the config is checked (`check_profiles`: `edge check-config`,
the agent's config child, `edge probe snmp`): a device naming an unknown profile, or a bad profile
file, stops the agent with the reason instead of failing at the first poll. The running agent passes
the profiles it was handed, already checked, to `settings_for` / `build_collectors`, so it never
validates a file itself and never imports pydantic (issue 15).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.poller import Settings, SnmpPoller
from edge_gateway.agent.collectors.snmp.privacy import ClientHasher
from edge_gateway.agent.collectors.snmp.profile import Profile, ProfileError, load_profiles, profile_names
from edge_gateway.agent.scheduler import Collector

if TYPE_CHECKING:
    from edge_gateway.agent.config import AgentConfig

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


def settings_for(section: SnmpSection, profiles: dict[str, Profile] | None = None) -> Settings:
    """The profiles and the client hasher every poller of `section` shares. `profiles` are those
    `check_profiles` returned for this section; None loads and checks them now."""
    if profiles is None:
        profiles = check_profiles(section.profiles_dir, ((d.name, d.profile) for d in section.devices))
    key = section.client_hash_key
    hasher = ClientHasher(key.get_secret_value().encode()) if key else None
    return Settings(profiles, hasher, section)


def build_collectors(config: AgentConfig, profiles: dict[str, Profile] | None = None) -> list[Collector]:
    """One collector per configured device, sharing one limit of polls on the wire at once;
    `profiles` as for `settings_for`."""
    settings = settings_for(config.snmp, profiles)
    limit = asyncio.Semaphore(config.snmp.concurrency)
    return [SnmpPoller(device, config.gateway.site, settings, limit) for device in config.snmp.devices]
