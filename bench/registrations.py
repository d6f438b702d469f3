#!/usr/bin/env python
"""Launch-day rush: many people press "Register" on one event at the same moment.

Every registration for an event takes that event's row lock, so registrations for one
event are serial by design; what matters is how short each one holds the lock. This
prints, for 1, 8 and 32 concurrent clients (each with its own PostgreSQL connection):
registrations per second, latency percentiles, and a check that exactly `capacity`
people were confirmed.

    make bench-registrations            # against postgres://postgres@127.0.0.1/turnout_bench
    DATABASE_URL=postgres://... python bench/registrations.py --people 2000
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/turnout_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
# As in production: with DEBUG on, Django also records every query in memory.
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def event_and_people(*, capacity: int, people: int, label: str):
    """A published event a week away with capacity seats, and people new users."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from events.models import Event, EventSeries

    series, _ = EventSeries.objects.get_or_create(
        slug="bench", defaults={"name": "Bench"}
    )
    stamp = time.time_ns()
    start = timezone.now() + timedelta(days=7)
    event = Event.objects.create(
        series=series,
        title="Bench",
        slug=f"{label}-{stamp}",
        city="San Francisco",
        country="US",
        venue_name="Bench",
        venue_address="Bench",
        timezone="America/Los_Angeles",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=capacity,
        status=Event.Status.PUBLISHED,
    )
    users = User.objects.bulk_create(
        User(email=f"{label}-{stamp}-{i}@example.com", password="!")  # noqa: S106
        for i in range(people)
    )
    return event, users


def rush(*, clients: int, people: int, capacity: int) -> None:

    from django.db import connection

    from events import services
    from events.models import Registration

    event, users = event_and_people(capacity=capacity, people=people, label="bench")
    shares = [users[i::clients] for i in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(share):
        mine = []
        try:
            connection.ensure_connection()
            barrier.wait()
            for user in share:
                began = time.perf_counter()
                services.register(event=event, user=user)
                mine.append(time.perf_counter() - began)
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began

    confirmed = Registration.objects.filter(event=event).confirmed().count()
    waitlisted = Registration.objects.filter(event=event).waitlisted().count()
    ms = [latency * 1000 for latency in latencies]
    print(
        f"{clients:>3} clients  {people / elapsed:8.0f} registrations/s  "
        f"p50 {percentile(ms, 0.50):6.1f} ms  p95 {percentile(ms, 0.95):6.1f} ms  "
        f"p99 {percentile(ms, 0.99):6.1f} ms  "
        f"confirmed {confirmed}/{capacity}  waitlisted {waitlisted}  "
        f"{'OK' if (confirmed, waitlisted) == (capacity, people - capacity) else 'WRONG'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=300)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}, "
        f"{os.cpu_count()} cores; {args.people} people, {args.capacity} seats, one event"
    )
    for clients in args.clients:
        rush(clients=clients, people=args.people, capacity=args.capacity)


if __name__ == "__main__":
    main()
