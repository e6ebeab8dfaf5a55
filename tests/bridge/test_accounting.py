from __future__ import annotations

from edge_gateway.bridge.accounting import Accounts, GatewayAccount


def test_accounting_counts_gaps_and_duplicates() -> None:
    account = GatewayAccount()
    for seq in (1, 2, 2, 5, 3, 6):
        account.record(seq, points=10, newest_time_ns=0)
    assert (account.batches, account.points, account.last_seq) == (6, 60, 6)
    assert account.gaps == 1  # 4 is still missing; 3 arrived late and filled its gap
    assert account.duplicates == 1  # the second 2
    account.record(4, points=10, newest_time_ns=0)
    assert account.gaps == 0 and account.duplicates == 1


def test_lag_is_storing_time_minus_the_newest_reading() -> None:
    account = GatewayAccount()
    account.record(1, points=1, newest_time_ns=1_000_000_000, now_ns=3_500_000_000)
    assert account.lag_s == 2.5
    account.record(2, points=1, newest_time_ns=4_000_000_000, now_ns=3_000_000_000)
    assert account.lag_s == 0.0  # a gateway clock ahead of ours is not a negative lag


def test_ingest_readings_per_gateway() -> None:
    accounts = Accounts()
    accounts.of("g2").points = 5
    accounts.of("g1").gaps = 1
    accounts.of("g1").malformed = 3
    readings = accounts.readings("bridge-1", 123)
    assert [r.tags for r in readings] == [
        {"gateway": "g1", "bridge": "bridge-1"},
        {"gateway": "g2", "bridge": "bridge-1"},
    ]
    assert readings[1].fields["points"] == 5 and readings[0].fields["gaps"] == 1
    assert readings[0].fields["malformed"] == 3
    assert all(r.measurement == "ingest" and r.time_ns == 123 for r in readings)
