"""Writes line protocol to InfluxDB: the 1.x `/write` API or the v2 `/api/v2/write` API.

Both are one HTTP POST of line protocol, so one small writer serves both over the aiohttp session the
bridge already has. It keeps the raw status code, body and `Retry-After` of every answer, which decide
what happens next (see `WriteError`); `influxdb-client` hides the first two behind its own retry logic.
The v2 endpoint is the one InfluxDB 1.8+, 2.x, 3.x and VictoriaMetrics share.

Credentials travel in the `Authorization` header (Basic for v1, Token for v2), never in the URL: an
aiohttp error names the URL it failed on, and that text reaches the log. `redact` is applied to every
error text all the same, in case a URL with a password comes from elsewhere.
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import re
import time
from collections.abc import Sequence

import aiohttp

from edge_gateway.bridge.config import InfluxSection

# The data itself is refused: retrying the same lines can never succeed, splitting them can.
REJECTED_STATUSES = frozenset({400, 413, 422})
# ... except these 400s, which InfluxDB 1.x gives for its own configuration, not for the data.
NOT_THE_DATA = ("retention policy not found", "database not found")
GZIP_LEVEL = 1  # most of the size gain for a fraction of the CPU of the default level
RETRY_AFTER_MAX_S = 3600.0
_SECRET_PARAM = re.compile(r"([?&](?:p|password|token)=)[^&\s'\"]*", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\w+://[^/\s:@]*):[^@/\s]*@")


def redact(text: str) -> str:
    """The text with URL passwords and password or token query parameters replaced by `***`."""
    return _URL_PASSWORD.sub(r"\1:***@", _SECRET_PARAM.sub(r"\1***", text))


def basic_auth(username: str, password: str) -> str:
    """InfluxDB 1.x accepts its credentials as HTTP Basic authentication as well as `u`/`p` params."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class WriteError(Exception):
    """A write that failed; `retryable` says whether the same data may succeed later.

    Not retryable only when the database refused the data itself (400, 413, 422: bad lines, a field
    type conflict, too large), unless the 400 is about a missing retention policy or database.
    Everything else is the database's or the network's problem and is retried, including
    401/403/404: a wrong password or a missing bucket must not throw good data away.
    """

    def __init__(
        self, message: str, retryable: bool, retry_after_s: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.status = status


def parse_retry_after(value: str, now_s: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if unusable."""
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now_s is None else now_s)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


class InfluxWriter:
    def __init__(self, conf: InfluxSection, session: aiohttp.ClientSession) -> None:
        self.conf = conf
        self.session = session
        base = conf.url.rstrip("/")
        self.headers = {"Content-Type": "text/plain; charset=utf-8"}
        if conf.gzip:
            self.headers["Content-Encoding"] = "gzip"
        if conf.api == "v1":
            self.url = f"{base}/write"
            self.params = {"db": conf.database or "", "precision": "ns"}
            if conf.retention_policy:
                self.params["rp"] = conf.retention_policy
            if conf.username:
                password = conf.password.get_secret_value() if conf.password else ""
                self.headers["Authorization"] = basic_auth(conf.username, password)
        else:
            self.url = f"{base}/api/v2/write"
            self.params = {"org": conf.org or "", "bucket": conf.bucket or "", "precision": "ns"}
            token = conf.token.get_secret_value() if conf.token else ""
            self.headers["Authorization"] = f"Token {token}"

    def body(self, lines: Sequence[str]) -> bytes:
        body = ("\n".join(lines) + "\n").encode()
        return gzip.compress(body, compresslevel=GZIP_LEVEL) if self.conf.gzip else body

    async def write(self, lines: Sequence[str]) -> None:
        """Store the lines or raise WriteError; returns only once the database answered 2xx."""
        timeout = aiohttp.ClientTimeout(total=self.conf.timeout_s)
        try:
            async with self.session.post(
                self.url, params=self.params, data=self.body(lines), headers=self.headers, timeout=timeout
            ) as response:
                if response.status < 300:
                    return
                text = (await response.text(errors="replace"))[:500].strip()
                status = response.status
                retry_after_s = parse_retry_after(response.headers.get("Retry-After", ""))
                refused = status in REJECTED_STATUSES and not any(what in text for what in NOT_THE_DATA)
                raise WriteError(redact(f"HTTP {status}: {text}"), not refused, retry_after_s, status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WriteError(redact(f"{type(exc).__name__}: {exc}"), retryable=True) from exc


async def create_database(
    url: str,
    database: str,
    session: aiohttp.ClientSession,
    username: str | None = None,
    password: str | None = None,
) -> None:
    """InfluxDB 1.x only: make sure the database exists (idempotent); WriteError.status says why not."""
    headers = {"Authorization": basic_auth(username, password or "")} if username else {}
    try:
        async with session.post(
            f"{url.rstrip('/')}/query", headers=headers, data={"q": f'CREATE DATABASE "{database}"'}
        ) as response:
            if response.status >= 300:
                text = (await response.text(errors="replace"))[:200].strip()
                raise WriteError(
                    redact(f"CREATE DATABASE {database}: HTTP {response.status}: {text}"),
                    response.status not in (401, 403),
                    status=response.status,
                )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WriteError(
            redact(f"CREATE DATABASE {database}: {type(exc).__name__}: {exc}"), retryable=True
        ) from exc
