"""`[fleet]` of the bridge config: the NOC's side of issue 19 (docs/fleet.md).

Its own module, importing only core.config, so the fleet code names it without importing the whole
bridge configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from annotated_types import Gt

from edge_gateway.core.config import Doc, Section


@dataclass(frozen=True, kw_only=True)
class FleetSection(Section):
    """`[fleet]` of the bridge config: the NOC's identity, key and the gateways it expects."""

    expected: Annotated[list[str], Doc("gateway ids listed even if never seen")] = field(default_factory=list)
    username: Annotated[str | None, Doc("the NOC's broker login (role edge-noc); None: [mqtt]'s")] = None
    password_file: Path | None = None
    key_file: Annotated[Path | None, Doc("the NOC's Ed25519 private key (edge fleet keygen)")] = None
    stale_after_s: Annotated[float, Gt(0), Doc("a status older than this is `silent`")] = 300.0
