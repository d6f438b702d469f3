#!/usr/bin/env python
"""Reminder day: 10,000 confirmed attendees across 20 events, all with a reminder due.

This times the email pipeline as production runs it: reminders.dispatch() writes the
outbox rows and publishes the send tasks to a private Redis, a real Celery worker
(prefork) claims, renders and sends them, and an aiosmtpd sink on loopback (a process
of its own) accepts them. The clock runs from just before dispatch until the sink has
accepted the last message. The limit it is compared with: the same messages, rendered
beforehand (not timed), sent by a plain smtplib loop over one connection to the same
sink. It prints both rates, their ratio (aim: at least 0.5), the worker's peak memory
and the duplicates (must be 0). Events, accounts and their emails are wiped each run.

    make bench-reminders    # against postgres://postgres@127.0.0.1/turnout_bench_reminders
    python bench/reminders.py --attendees 2000 --events 4 --concurrency 4
"""

import argparse
import multiprocessing
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from email.utils import parseaddr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/turnout_bench_reminders"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
# As in production: with DEBUG on, Django also records every query in memory.
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
os.environ.setdefault("TURNOUT_SITE_URL", "http://bench.turnout.localhost")

from registrations import ensure_database  # noqa: E402 -- bench/ is on sys.path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The SMTP sink: a process of its own, so it shares no GIL with the worker or us -------
def run_sink(port, stats, done, ready, pipe) -> None:
    """Accepts every message and counts it per recipient.

    stats is [accepted, monotonic time of the last one, target]; done is set at the
    target-th. The pipe takes ("reset", target) or ("counts", None), answers counts.
    """
    import logging
    from collections import Counter

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    recipients = Counter()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            recipients.update(envelope.rcpt_tos)
            stats[0], stats[1] = stats[0] + 1, time.monotonic()
            if stats[0] == stats[2]:
                done.set()
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while request := pipe.recv():
            if request[0] == "reset":
                recipients.clear()
                stats[:] = [0, 0, request[1]]
                done.clear()
            pipe.send(dict(recipients))
    except (KeyboardInterrupt, EOFError):
        pass  # Ctrl-C reaches us too; the driver cleans up
    finally:
        controller.stop()


class Sink:
    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.port, self.stats = free_port(), context.RawArray("d", 3)
        self.done, ready = context.Event(), context.Event()
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(
            target=run_sink, args=(self.port, self.stats, self.done, ready, theirs)
        )
        self.process.start()
        if not ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")

    def call(self, command: str, argument=None) -> dict[str, int]:
        self.pipe.send((command, argument))
        return self.pipe.recv()

    def wait(self, *, stall: float = 30.0) -> tuple[int, float]:
        """(accepted, when the last was) at the target, or after stall s of nothing."""
        seen, since = -1.0, time.monotonic()
        while not self.done.wait(0.5) and time.monotonic() - since < stall:
            if self.stats[0] != seen:
                seen, since = self.stats[0], time.monotonic()
        return int(self.stats[0]), self.stats[1]


# Child processes ------------------------------------------------------------------
def spawn(command: list[str], env, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(  # noqa: S603 -- our own commands
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def peak_memory(pid: int) -> tuple[float, int]:
    """MiB: the sum of VmHWM (each process's own peak RSS) of pid and its children."""
    pids = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        pids += [int(child) for child in children.read_text().split()]
    kib = 0
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                kib += int(line.split()[1])
    return kib / 1024, len(pids)


def wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


# Data -------------------------------------------------------------------------------
def seed(*, attendees: int, events: int) -> None:
    """Wipes events and accounts, then adds events whose 2-hour reminder is due now."""
    from datetime import timedelta

    from django.apps import apps
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from events.models import Event, EventSeries, Registration

    tables = [
        model._meta.db_table
        for label in ("events", "accounts")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    now = timezone.now()
    series = EventSeries.objects.create(name="Bench", slug="bench")
    per_event = -(-attendees // events)
    venue = {"city": "Berlin", "country": "DE", "venue_name": "The Hall"}
    made = Event.objects.bulk_create(
        Event(
            series=series,
            slug=f"bench-night-{i}",
            **venue,
            venue_address="Alexanderplatz 1, Berlin",
            timezone="Europe/Berlin",
            starts_at=now + timedelta(minutes=90),
            ends_at=now + timedelta(hours=4),
            capacity=max(500, per_event),
            status=Event.Status.PUBLISHED,
            reminder_offsets=[120],  # two hours before: due half an hour ago
        )
        for i in range(events)
    )
    # bulk_create writes no translations (django-parler keeps titles apart).
    Texts = Event._parler_meta.root_model
    Texts.objects.bulk_create(
        Texts(master=event, language_code="en", title=f"Bench night {i}")
        for i, event in enumerate(made)
    )
    users = User.objects.bulk_create(
        (
            User(
                email=f"attendee{i}@example.com",
                password=UNUSABLE_PASSWORD_PREFIX,
                email_reminders=True,
            )
            for i in range(attendees)
        ),
        batch_size=2000,
    )
    Registration.objects.bulk_create(
        (
            Registration(
                event=made[i // per_event],
                user=user,
                status=Registration.Status.CONFIRMED,
                confirmed_at=now - timedelta(days=1),
                calendar_offset=0,
            )
            for i, user in enumerate(users)
        ),
        batch_size=2000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    n = args.attendees

    tmp = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    redis_port = free_port()
    # Before Django reads its settings: the driver publishes to this Redis too.
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    redis = worker = sink = None
    finished = False
    try:
        redis = spawn(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port)]
            + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
            os.environ,
            tmp / "redis.log",
        )
        sink = Sink()
        ensure_database(os.environ["DATABASE_URL"])
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from config.celery import app
        from events import reminders
        from events.messages import Kind
        from notifications import mime
        from notifications.models import Message

        call_command("migrate", verbosity=0)
        seed(attendees=n, events=args.events)
        worker = spawn(
            [Path(sys.executable).parent / "celery", "-A", "config", "worker"]
            + ["--loglevel=WARNING", f"--concurrency={args.concurrency}"]
            + ["--without-mingle", "--without-gossip", "-n", "bench-reminders@%h"],
            {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"},
            tmp / "worker.log",
        )
        wait_for(
            lambda: worker.poll() is not None or app.control.ping(timeout=0.5),
            timeout=60,
            what="the worker",
        )
        if worker.poll() is not None:
            raise RuntimeError((tmp / "worker.log").read_text()[-3000:])
        print(
            f"PostgreSQL {connection.cursor().connection.info.server_version}, "
            f"{os.cpu_count()} cores; {n} attendees across {args.events} events; "
            f"worker prefork --concurrency={args.concurrency}"
        )

        # The pipeline: dispatch -> Redis -> worker -> SMTP sink.
        sink.call("reset", n)
        began = time.monotonic()
        queued = reminders.dispatch(now=timezone.now()).queued
        dispatch_s = time.monotonic() - began
        delivered, last_at = sink.wait()
        if not delivered:
            raise RuntimeError("the sink accepted nothing")
        pipeline_s = last_at - began
        reminder = Message.objects.filter(kind=Kind.REMINDER)
        sent = reminder.filter(status=Message.Status.SENT)
        wait_for(lambda: sent.count() >= delivered, timeout=60, what="the sent rows")
        counts = sink.call("counts")
        duplicates = sum(count - 1 for count in counts.values())
        peak_mib, processes = peak_memory(worker.pid)  # before it stops
        stop(worker)

        # The limit: the same messages, rendered beforehand, over one connection.
        rendering = time.monotonic()
        sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        payloads = [
            (m.to_email, mime.as_email(m, None).message().as_bytes(linesep="\r\n"))
            for m in sent.order_by("pk").iterator(chunk_size=2000)
        ]
        render_s = time.monotonic() - rendering
        sink.call("reset", len(payloads))
        smtp = smtplib.SMTP("127.0.0.1", sink.port, timeout=20)
        began = time.monotonic()
        for to_email, payload in payloads:
            smtp.sendmail(sender, [to_email], payload)
        plain, plain_at = sink.wait()
        plain_s = plain_at - began
        smtp.quit()

        kib = sum(len(payload) for _, payload in payloads) / len(payloads) / 1024
        rate, limit = delivered / pipeline_s, plain / plain_s
        print(
            f"pipeline    {delivered:>6} msgs in {pipeline_s:7.2f} s {rate:6.0f} msgs/s"
            f"  (dispatch -> the sink's last; dispatch itself {dispatch_s:.2f} s, "
            f"{queued} queued)\n"
            f"plain loop  {plain:>6} msgs in {plain_s:7.2f} s {limit:6.0f} msgs/s"
            f"  (one smtplib connection; rendered beforehand in {render_s:.2f} s, "
            f"not timed; {kib:.1f} KiB/message)\n"
            f"ratio pipeline/plain {rate / limit:.2f}  (aim: >= 0.50)\n"
            f"worker peak memory {peak_mib:.0f} MiB  (sum of VmHWM, {processes} "
            f"processes)\nduplicates {duplicates}  recipients reached "
            f"{len(counts)}/{n}  {'OK' if (duplicates, len(counts)) == (0, n) else 'WRONG'}"
        )
        if stranded := reminder.exclude(status=Message.Status.SENT).count():
            handed = reminder.filter(status="queued", enqueued_at__isnull=False)
            print(
                f"NOT SENT after 30 s without progress: {stranded} rows, of which "
                f"{handed.filter(attempts=0).count()} queued, handed to Celery and "
                "never claimed; only the sweeper would send them, minutes later"
            )
        finished = True
    finally:
        stop(worker)
        if sink:
            sink.process.terminate()
        stop(redis)
        if finished:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"The worker's and Redis's logs are in {tmp}", file=sys.stderr)


if __name__ == "__main__":
    main()
