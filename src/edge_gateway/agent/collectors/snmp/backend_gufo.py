"""gufo-snmp behind the backend protocol: the fast default (~2 µs per varbind, Rust BER codec)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from gufo.snmp import Aes128Key, DesKey, Md5Key, NoSuchInstance, Sha1Key, SnmpAuthError, SnmpError, User
from gufo.snmp.aio.client import SnmpSession

from edge_gateway.agent.collectors.snmp.backend import (
    AuthFailure,
    Credentials,
    NoResponse,
    SnmpBackendError,
    TooBig,
    Value,
)


def _translate(exc: BaseException) -> SnmpBackendError:
    if isinstance(exc, TimeoutError):
        return NoResponse("no response")
    if isinstance(exc, SnmpAuthError):
        return AuthFailure(str(exc) or "authentication failed")
    text = str(exc)
    if "too" in text.lower() and "big" in text.lower():
        return TooBig(text)
    return SnmpBackendError(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


class GufoBackend:
    def __init__(self, session: SnmpSession) -> None:
        self._session = session
        self._empty_columns: set[str] = set()  # confirmed empty at the end of the MIB view

    @classmethod
    async def open(cls, credentials: Credentials) -> GufoBackend:
        host, port, timeout_s = credentials.host, credentials.port, credentials.timeout_s
        if not credentials.v3:
            session = SnmpSession(addr=host, port=port, community=credentials.community, timeout=timeout_s)
            return cls(session)
        auth = priv = None
        if credentials.auth_protocol:
            auth = {"sha": Sha1Key, "md5": Md5Key}[credentials.auth_protocol](credentials.auth_key.encode())
        if credentials.priv_protocol:
            priv = {"aes": Aes128Key, "des": DesKey}[credentials.priv_protocol](credentials.priv_key.encode())
        user = User(credentials.user, auth_key=auth, priv_key=priv)
        session = SnmpSession(addr=host, port=port, user=user, timeout=timeout_s)
        try:
            await session.refresh()
        except (SnmpError, TimeoutError, OSError) as exc:
            raise _translate(exc) from exc
        return cls(session)

    async def get_many(self, oids: Sequence[str]) -> dict[str, Value]:
        try:
            return await self._session.get_many(oids)
        except NoSuchInstance:
            return {}
        except (SnmpError, TimeoutError, OSError) as exc:
            raise _translate(exc) from exc

    async def bulk_walk(self, column: str, max_repetitions: int) -> AsyncGenerator[tuple[str, Value], None]:
        """GETBULK under `column`. gufo ends a walk the same way on endOfMibView and on an error
        status such as tooBig (StopAsyncIteration("stop")); a walk that ended so without a single row
        is checked with one GETNEXT, and if the column does have rows, tooBig is raised."""
        iterator = self._session.getbulk(column, max_repetitions=max_repetitions)
        rows = 0
        while True:
            try:
                oid, value = await iterator.__anext__()
            except StopAsyncIteration as exc:
                if exc.args and rows == 0 and max_repetitions > 1 and await self._has_rows(column):
                    raise TooBig(f"walk of {column} cut short at {max_repetitions} repetitions") from exc
                return
            except (SnmpError, TimeoutError, OSError) as exc:
                raise _translate(exc) from exc
            rows += 1
            yield oid, value

    async def _has_rows(self, column: str) -> bool:
        if column in self._empty_columns:
            return False
        try:
            async for _ in self._session.getnext(column):
                return True
        except (SnmpError, TimeoutError, OSError) as exc:
            raise _translate(exc) from exc
        self._empty_columns.add(column)
        return False

    async def close(self) -> None:
        """gufo sessions hold a socket only; dropping the session closes it."""
        del self._session
