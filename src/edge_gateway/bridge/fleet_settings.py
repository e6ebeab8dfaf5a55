"""`[fleet]` of the bridge config: the NOC's side of issue 19 (docs/fleet.md).

Its own module with no project imports, so src/edge_gateway/core/config.py can name it without an import
cycle.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class FleetSection(BaseModel):
    """`[fleet]` of the bridge config: the NOC's identity, key and the gateways it expects."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expected: list[str] = Field(default_factory=list, description="gateway ids listed even if never seen")
    username: str | None = Field(None, description="the NOC's broker login (role edge-noc); None: [mqtt]'s")
    password_file: Path | None = None
    key_file: Path | None = Field(None, description="the NOC's Ed25519 private key (edge fleet keygen)")
    stale_after_s: float = Field(300.0, gt=0, description="a status older than this is `silent`")
