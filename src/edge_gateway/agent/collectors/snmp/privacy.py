"""Client MACs become keyed hashes before anything leaves the collector.

A registration table is indexed by the client's MAC; the `client` tag carries HMAC-SHA256(key, MAC)
instead, truncated to `HASH_HEX_CHARS` hex characters: stable per gateway fleet (same key, same
client, same tag, so a client can be followed across APs) but not reversible without the key, which
a plain hash of the 2^48 MACs would be. The MAC itself is never logged nor put in a reading.
"""

from __future__ import annotations

import hashlib
import hmac

HASH_HEX_CHARS = 16
MAC_OCTETS = 6


class ClientHasher:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the client hash key needs at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "ClientHasher(key=***)"

    def hash_octets(self, octets: bytes) -> str:
        """The tag for a MAC given as its 6 octets (as an SNMP table index carries it)."""
        digest = hmac.new(self._key, bytes(octets), hashlib.sha256).hexdigest()
        return digest[:HASH_HEX_CHARS]

    def hash_index(self, parts: tuple[int, ...]) -> str:
        """The tag for a MAC given as index sub-identifiers (`0.39.16.50.237.96`)."""
        if len(parts) != MAC_OCTETS or not all(0 <= part < 256 for part in parts):
            raise ValueError("a MAC index part is 6 numbers 0-255")
        return self.hash_octets(bytes(parts))
