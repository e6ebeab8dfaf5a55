"""Development package of the edge gateway: the device simulators (`sim`), the demo and the real-server
harness of the tests. The gateway install does not carry it; `make setup` installs it."""
