"""One simulated serial port: a pseudo-terminal whose slave side is reachable by a stable symlink.

The gateway opens the symlink (`<dir>/cbn-int-01-rs485`) like a USB-serial adapter's by-id path.
Unplugging closes the pty and removes the link, so opening fails and an open handle sees a hangup;
replugging makes a new pty (usually another /dev/pts/N) and re-points the link atomically. Reading runs
on the event loop through `add_reader`, so any number of ports share one loop and no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import termios
import tty
from collections.abc import Callable
from pathlib import Path

from edge_gateway_dev.sim.serial.truth import PortStats

_READ_MAX_BYTES = 4096


class PtyPort:
    """A pty that exists between `plug()` and `unplug()`; `on_data` gets every chunk the gateway writes."""

    def __init__(self, link: Path, on_data: Callable[[bytes], None], stats: PortStats) -> None:
        self.link = link
        self._on_data = on_data
        self._stats = stats
        self._fds: tuple[int, int] | None = None  # (master, slave)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def plugged(self) -> bool:
        return self._fds is not None

    @property
    def device(self) -> Path | None:
        """The /dev/pts/N the link points at while plugged."""
        return Path(os.ttyname(self._fds[1])) if self._fds is not None else None

    def plug(self) -> None:
        """Create the pty in raw mode and point the link at it; must run inside the event loop."""
        if self._fds is not None:
            return
        master, slave = os.openpty()
        # The simulator keeps the slave open too, so the master never reads EIO while no client is
        # connected, exactly like a sensor wired to a port nobody has opened yet.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._fds = (master, slave)
        temporary = self.link.with_name(self.link.name + ".new")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(os.ttyname(slave))
        temporary.replace(self.link)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(master, self._readable)
        self._stats.plugs += 1

    def unplug(self) -> None:
        """Remove the link and close the pty; a client that still has it open sees a hangup."""
        if self._fds is None:
            return
        master, slave = self._fds
        self._fds = None
        if self._loop is not None:
            self._loop.remove_reader(master)
        self.link.unlink(missing_ok=True)
        os.close(master)
        os.close(slave)

    def _readable(self) -> None:
        if self._fds is None:
            return
        try:
            data = os.read(self._fds[0], _READ_MAX_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            # A hangup while the client goes away; the next open brings the port back to life.
            return
        if data:
            self._on_data(data)

    def write(self, data: bytes) -> None:
        """Send bytes towards the gateway; what the pty cannot take is lost, as on a real line."""
        if self._fds is None:
            self._stats.dropped_out_bytes += len(data)
            return
        try:
            written = os.write(self._fds[0], data)
        except (BlockingIOError, InterruptedError):
            written = 0
        except OSError:
            written = 0
        self._stats.dropped_out_bytes += len(data) - written

    def discard_unread_over(self, max_bytes: int) -> None:
        """Drop what the gateway has not read once more than `max_bytes` waits.

        A talker such as the GPS sends whether or not anyone listens; a real port that is not being read
        loses that output instead of handing a stale backlog to the next reader.
        """
        if self._fds is None:
            return
        slave = self._fds[1]
        pending = struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0\0\0\0"))[0]
        if pending > max_bytes:
            with contextlib.suppress(termios.error):
                termios.tcflush(slave, termios.TCIFLUSH)
            self._stats.dropped_out_bytes += pending
