"""Writes line protocol to InfluxDB: the 1.x `/write` API or the v2 `/api/v2/write` API.

Both are one HTTP POST of line protocol, so one small writer serves both over the aiohttp session
the bridge already has; it keeps full control of the status codes, which decide between retrying
(connection errors, 5xx, 429: the data is fine, the database is not) and dead-lettering (other 4xx:
the data is bad and retrying would block the stream forever). The v2 endpoint is the one InfluxDB
1.8+, 2.x, 3.x and VictoriaMetrics share.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from edge.config import InfluxSection


class WriteError(Exception):
    """A write that failed; `retryable` says whether the same data may succeed later."""

    def __init__(self, message: str, retryable: bool, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


def _retry_after_s(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


class InfluxWriter:
    def __init__(self, conf: InfluxSection, session: aiohttp.ClientSession) -> None:
        self.conf = conf
        self.session = session
        base = conf.url.rstrip("/")
        self.headers = {"Content-Type": "text/plain; charset=utf-8"}
        if conf.api == "v1":
            self.url = f"{base}/write"
            self.params = {"db": conf.database or "", "precision": "ns"}
            if conf.retention_policy:
                self.params["rp"] = conf.retention_policy
            if conf.username:
                self.params["u"] = conf.username
                self.params["p"] = conf.password.get_secret_value() if conf.password else ""
        else:
            self.url = f"{base}/api/v2/write"
            self.params = {"org": conf.org or "", "bucket": conf.bucket or "", "precision": "ns"}
            token = conf.token.get_secret_value() if conf.token else ""
            self.headers["Authorization"] = f"Token {token}"

    async def write(self, lines: Sequence[str]) -> None:
        """Store the lines or raise WriteError; returns only once the database answered 2xx."""
        body = "\n".join(lines).encode()
        timeout = aiohttp.ClientTimeout(total=self.conf.timeout_s)
        try:
            async with self.session.post(
                self.url, params=self.params, data=body, headers=self.headers, timeout=timeout
            ) as response:
                if response.status < 300:
                    return
                text = (await response.text())[:500]
                retryable = response.status >= 500 or response.status == 429
                raise WriteError(f"HTTP {response.status}: {text}", retryable, _retry_after_s(response))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WriteError(f"{type(exc).__name__}: {exc}", retryable=True) from exc


async def create_database(url: str, database: str, session: aiohttp.ClientSession) -> None:
    """InfluxDB 1.x only: make sure the database exists (idempotent)."""
    async with session.post(
        f"{url.rstrip('/')}/query", data={"q": f'CREATE DATABASE "{database}"'}
    ) as response:
        if response.status >= 300:
            raise WriteError(f"CREATE DATABASE {database}: HTTP {response.status}", retryable=True)
