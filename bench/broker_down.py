#!/usr/bin/env python
"""What a registration costs when Redis (Celery's broker) is down.

The outbox row is saved in the registration's transaction; handing it to Celery
happens after the commit. This registers people one at a time through the service
(each commit fires its hand-over), in three runs measured in one go, each in its own
process so that each has its own broker connection:

- up:       Redis answers (the baseline of this run);
- down:     the broker's port is closed, with the hand-over breaker on (default);
- no pause: the port is closed and TURNOUT_MAIL_HAND_OVER_PAUSE_SECONDS=0, so every
            registration tries the broker (what each would pay without the breaker).

    python bench/broker_down.py [--people 40]   # PostgreSQL turnout_bench, Redis :6379
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/turnout_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_LOG_LEVEL", "ERROR")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once it is closed


def measure(people: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings
    from registrations import event_and_people

    from events import services

    call_command("migrate", verbosity=0)
    # Setting up writes the event's texts to the cache (parler), which lives in the
    # same Redis; only the registrations are measured against the broker that is down.
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=local):
        event, users = event_and_people(
            capacity=people, people=people, label="bench-broker"
        )
    times = []
    for user in users:
        began = time.perf_counter()
        services.register(event=event, user=user)  # commits: the hand-over runs
        times.append((time.perf_counter() - began) * 1000)
    return {"times": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.people)))
        return

    from registrations import ensure_database, percentile

    ensure_database(os.environ["DATABASE_URL"])
    down = f"redis://127.0.0.1:{closed_port()}/0"
    runs = {
        "up": {"REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")},
        "down": {"REDIS_URL": down},
        "no pause": {"REDIS_URL": down, "TURNOUT_MAIL_HAND_OVER_PAUSE_SECONDS": "0"},
    }
    for name, env in runs.items():
        child = subprocess.run(  # noqa: S603 -- this script
            [sys.executable, __file__, "--child", f"--people={args.people}"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        if child.returncode:
            sys.exit(f"{name}: {child.stderr}")
        times = json.loads(child.stdout.strip().splitlines()[-1])["times"]
        print(
            f"{name:>9}: {args.people} registrations  "
            f"p50 {percentile(times, 0.5):7.1f} ms  p95 {percentile(times, 0.95):7.1f} ms"
            f"  max {max(times):7.1f} ms  total {sum(times) / 1000:6.2f} s"
        )


if __name__ == "__main__":
    main()
