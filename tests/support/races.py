"""Races against real PostgreSQL, shared by the concurrency tests: a write gate that
holds every racer until all are blocked on a lock, and the pool that runs them."""

import queue
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection

GATE_TIMEOUT = 60
# PostgreSQL's default max_connections is 100: this many racers leaves room for the
# test's own connections and anything else on the server.
MAX_THREADS = 80


def raw_connection():
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname=params["NAME"],
        autocommit=True,
    )


def _free_connections() -> int:
    with raw_connection() as conn:
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])
        reserved = int(
            conn.execute("SHOW superuser_reserved_connections").fetchone()[0]
        )
        used = conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0]
    return limit - reserved - used - 5


def _lock_waiters(monitor) -> int:
    return monitor.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()[0]


def wait_for_lock_waiters(monitor, expected: int, finished=lambda: 0) -> None:
    """Waits until `expected` threads are blocked on a lock or have finished.

    (A call that never writes a registration, like set_capacity, can finish first.)
    """
    # Its own autocommit connection: inside a transaction pg_stat_activity is a
    # snapshot taken once and never refreshed.
    deadline = time.monotonic() + GATE_TIMEOUT
    while (waiting := _lock_waiters(monitor) + finished()) < expected:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"only {waiting} of {expected} threads reached the gate"
            )
        time.sleep(0.01)


@contextmanager
def write_gate(expected_waiters: int, table: str = "events_registration"):
    """Blocks writes to table; `release()` waits for the waiters, then opens."""
    with raw_connection() as gate, raw_connection() as monitor:
        gate.execute("BEGIN")
        gate.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

        def release(finished):
            try:
                wait_for_lock_waiters(monitor, expected_waiters, finished)
            finally:
                gate.execute("COMMIT")

        yield release


def race(calls, *, all_at_once=False, table="events_registration"):
    """Runs every call from its own thread pool, all released together behind the gate
    on writes to table.

    Returns (results, errors) in call order. PostgreSQL's connection limit bounds how
    many run at the very same moment, the rest follow as threads free up; with
    all_at_once (the controls, whose outcome depends on it) too few free connections
    fail the test instead.
    """
    free = _free_connections()
    needed = len(calls) if all_at_once else 2
    if free < needed or (all_at_once and len(calls) > MAX_THREADS):
        pytest.fail(
            f"this race needs {needed} connections at once; PostgreSQL has {free} free"
        )
    threads = min(len(calls), free, MAX_THREADS)
    work = queue.Queue()
    for index, call in enumerate(calls):
        work.put((index, call))
    results, errors = [None] * len(calls), [None] * len(calls)
    finished = []
    barrier = threading.Barrier(threads + 1, timeout=GATE_TIMEOUT)

    def worker():
        try:
            barrier.wait()
            while True:
                try:
                    index, call = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = call()
                except Exception as error:  # noqa: BLE001 -- reported to the test
                    errors[index] = error
                finished.append(index)
        finally:
            connection.close()

    with write_gate(expected_waiters=threads, table=table) as release:
        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        barrier.wait()
        try:
            release(finished=lambda: len(finished))
        finally:
            # Even when the gate fails, no racer may outlive the test: the database
            # flush that follows would deadlock against it.
            for thread in pool:
                thread.join(timeout=GATE_TIMEOUT)
    assert not any(thread.is_alive() for thread in pool), "a racing thread hung"
    return results, errors
