"""Host names are resolved before a backend sees them; a name that does not resolve names itself."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from edge_gateway.agent.collectors.snmp.backend import resolve


async def test_addresses_pass_through_and_names_resolve_ipv4_first(monkeypatch: pytest.MonkeyPatch) -> None:
    async def lookup(host: str, port: int, **_: Any) -> list[Any]:
        v6 = (socket.AF_INET6, socket.SOCK_DGRAM, 17, "", ("fd00::11", port, 0, 0))
        v4 = (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("10.20.0.11", port))
        return [v6, v4]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", lookup)
    assert await resolve("10.20.0.12", 161) == "10.20.0.12"
    assert await resolve("fd00::12", 161) == "fd00::12"
    assert await resolve("ap-kejaksan-1.lan", 161) == "10.20.0.11"


async def test_a_name_that_does_not_resolve_is_an_os_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    async def lookup(host: str, port: int, **_: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", lookup)
    with pytest.raises(OSError, match=r"ap-gone\.lan: cannot resolve: Name or service not known"):
        await resolve("ap-gone.lan", 161)
