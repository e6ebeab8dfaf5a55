"""Checks of the configuration that field types cannot express, made so that one run of
`edge check-config` lists every problem of a file.

Pydantic skips a model's "after" validators as soon as one of its fields is wrong, and a "before"
validator that raises hides every other problem of its section: a file needed fixing up to five
times before it passed. So each section declares its `Checks`, which core/validation.py runs:
secrets are read from their `<name>_file` first (a file that cannot be read is a problem of that
key, not a stop), then the fields are validated, then the section's cross-field check runs, on the
fields that are valid when others are not (skipped only when a key it reads is itself wrong), and
every problem of all three steps is raised together, each at its own path. Nothing here imports
pydantic: the gateway's running process imports these checks with its config classes. Files the
programs will open (CA and client certificates, profile and rule files) must exist when the config
is checked, not when the agent first connects; ports are checked to be 1-65535 wherever they are written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Checks:
    """A section's own checks, run by core/validation.py around the validation of its keys.

    `before(data)` rewrites the raw table first (deprecated keys); `secrets` are read from their
    `<name>_file`; `check(section)` returns the cross-field problems, judged on the keys that are
    valid when others are not, and skipped when one of the keys it `reads` is itself wrong."""

    secrets: tuple[str, ...] = ()
    check: Callable[[Any], list[str]] | None = None
    reads: frozenset[str] | tuple[str, ...] = ()
    before: Callable[[dict[str, Any]], dict[str, Any]] | None = None


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def readable_file(path: Path | None) -> Path | None:
    """A file the program will open later: it must be there and readable now."""
    if path is not None:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        if not os.access(path, os.R_OK):
            raise ValueError(f"{path}: not readable")
    return path


def existing_dir(path: Path | None) -> Path | None:
    if path is not None and not path.is_dir():
        raise ValueError(f"{path}: no such directory")
    return path


def port_in_range(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not 1-65535")
    return int(text)


def split_host_port(value: str, default_port: int | None = None, any_port: bool = False) -> tuple[str, int]:
    """The one reading of `host:port` in every config (status page, bridge pages, open-data feed, SNMP
    devices, ONVIF). With `default_port`, a bare host (or an IPv6 address, which has several colons)
    takes it; `any_port` also accepts 0, a free port picked at start."""
    host, _, port = value.rpartition(":")
    if default_port is not None and value.count(":") != 1:
        return value, default_port
    if not host:
        raise ValueError("must be host:port")
    if any_port and port == "0":
        return host, 0
    return host, port_in_range(port)


def host_port(value: str) -> str:
    """A field check: `host:port` with a port in range."""
    split_host_port(value)
    return value


def listen_address(value: str) -> str:
    """A field check: `host:port` to listen on; port 0 picks a free one."""
    split_host_port(value, any_port=True)
    return value


def url_with(schemes: tuple[str, ...]) -> Callable[[str], str]:
    """A URL check: one of `schemes`, a host, and a port (when given) in range."""

    def check(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in schemes:
            raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
        if not parts.hostname:
            raise ValueError("has no host")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError("port is not 1-65535") from exc
        return url

    return check


def duplicates(what: str, values: list[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    return [f"{what} must be unique: {', '.join(repeated)}"] if repeated else []
