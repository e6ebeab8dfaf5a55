"""A child process that writes to a buffer as the agent does, until the test kills it with SIGKILL.

    python -m tests.chaos.buffer_writer BUFFER_DB FIRST_VALUE

Puts batches of readings and takes and acks batches, forever, telling the test on stdout what it has
done: `put A B` once readings A..B are committed, `acking S v...` just before it acks batch S (carrying
the readings v...), `acked S` once the ack is committed. A kill between two of these lines leaves the
test not knowing whether that one step happened, and it checks only what it knows.
"""

from __future__ import annotations

import sys
from pathlib import Path

from edge_gateway.agent.buffer import Buffer

PUT_READINGS = 40
TAKE_READINGS = 30


def line_of(value: int) -> str:
    return f"power,device=d{value % 7} value={value}i {1_700_000_000_000_000_000 + value}"


def value_of(line: str) -> int:
    return int(line.rsplit(" ", 1)[1]) - 1_700_000_000_000_000_000


def main(path: Path, first: int) -> None:
    buffer = Buffer(path, 1 << 30)
    print("ready", flush=True)
    value = first
    while True:
        buffer.put([line_of(v) for v in range(value, value + PUT_READINGS)])
        print(f"put {value} {value + PUT_READINGS - 1}", flush=True)
        value += PUT_READINGS
        batch = buffer.take(TAKE_READINGS)
        if batch is not None:
            print(f"acking {batch.seq} " + " ".join(str(value_of(line)) for line in batch.lines), flush=True)
            buffer.ack(batch.seq)
            print(f"acked {batch.seq}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
