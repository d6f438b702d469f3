"""The email pipeline for real: a redis-server, Celery worker and beat processes of
our own, and an SMTP server (aiosmtpd) on loopback that can be made to fail.

The worker and beat run `config.settings` (not the test settings) against the test
database, so they are the same processes as in production, pointed elsewhere. Tests
here use the transactional database: the worker must see committed rows.
"""

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from tests.conftest import service_missing

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command log

REPO_ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
# The worker's own clocks, shortened so a test sees a retry or a rescue in seconds.
PIPELINE_ENV = {
    "TURNOUT_MAIL_RETRY_BASE_SECONDS": "0.5",
    "TURNOUT_MAIL_RETRY_MAX_SECONDS": "2",
    "TURNOUT_MAIL_STUCK_AFTER_SECONDS": "4",
    "TURNOUT_MAIL_HAND_OVER_GRACE_SECONDS": "1",
    "TURNOUT_OUTBOX_SWEEP_SECONDS": "1",
    "TURNOUT_REMINDER_SCAN_SECONDS": "1",
}


def wait_until(predicate, *, timeout=30.0, interval=0.1, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# SMTP ----------------------------------------------------------------------------------
class SinkHandler:
    """Records every message whose DATA arrived; answers as the test tells it to."""

    def __init__(self):
        self.received = []
        self.answers = []  # e.g. ["451 4.7.1 Try again later"], used one per message
        self.hold_seconds = 0.0
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            (
                envelope.rcpt_tos,
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        if self.hold_seconds:
            seconds, self.hold_seconds = self.hold_seconds, 0.0
            self.holding.set()
            await asyncio.sleep(seconds)
        if self.answers:
            answer = self.answers.pop(0)
            if not answer.startswith("250"):
                # A refused message was not delivered: it does not count as received.
                self.received.pop()
            return answer
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on a fixed loopback port, which can be stopped and started again."""

    def __init__(self, port: int):
        self.port = port
        self.handler = SinkHandler()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def reset(self):
        self.handler.received.clear()
        self.handler.answers.clear()
        self.handler.hold_seconds = 0.0
        self.handler.holding.clear()
        if not self.controller:
            self.start()

    def messages_to(self, address: str):
        return [m for rcpts, m in self.handler.received if address in rcpts]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Processes -------------------------------------------------------------------------------
class Process:
    """A child process with its output in a log file, which a failing test prints."""

    def __init__(self, name, command, env, log_dir: Path):
        self.name, self.command, self.env = name, command, env
        self.log_path = log_dir / f"{name}.log"
        self.popen = None

    def start(self, ready_text: str | None = None, timeout=30.0):
        log = open(self.log_path, "ab")  # noqa: SIM115 -- closed with the process
        self.popen = subprocess.Popen(  # noqa: S603 -- our own commands
            self.command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if ready_text:
            wait_until(
                lambda: ready_text in self.log() or self.popen.poll() is not None,
                timeout=timeout,
                what=f"{self.name} to start",
            )
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def kill(self, sig=signal.SIGKILL):
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=10)

    def stop(self):
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Pipeline:
    """Redis, worker, beat and the SMTP sink for one test module."""

    def __init__(self, tmp: Path, database_name: str):
        self.tmp = tmp
        self.redis_port = settings.TEST_BROKER_PORT
        self.sink = SmtpSink(free_port())
        db = settings.DATABASES["default"]
        self.env = {
            **os.environ,
            **PIPELINE_ENV,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{database_name}"
            ),
            "DJANGO_CONN_MAX_AGE": "0",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.sink.port}",
            "DJANGO_EMAIL_TIMEOUT": "20",
            "TURNOUT_SITE_URL": settings.SITE_URL,
        }
        self.redis = Process(
            "redis",
            [
                shutil.which("redis-server"),
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
            ],
            self.env,
            tmp,
        )
        self.workers: list[Process] = []
        self.beats: list[Process] = []

    def start_worker(self) -> Process:
        worker = Process(
            f"worker{len(self.workers)}",
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-n",
                f"pipeline{len(self.workers)}@%h",
            ],
            self.env,
            self.tmp,
        )
        worker.start(ready_text=" ready.")
        self.workers.append(worker)
        return worker

    def start_beat(self) -> Process:
        beat = Process(
            f"beat{len(self.beats)}",
            [
                str(CELERY),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.tmp / f'beat{len(self.beats)}-schedule'}",
            ],
            self.env,
            self.tmp,
        )
        beat.start(ready_text="beat: Starting")
        self.beats.append(beat)
        return beat

    def stop_beats(self):
        for beat in self.beats:
            beat.stop()
        self.beats.clear()

    def stop(self):
        self.stop_beats()
        for worker in self.workers:
            worker.stop()
        self.redis.stop()
        self.sink.stop()

    def logs(self) -> str:
        parts = [self.redis, *self.workers, *self.beats]
        return "\n".join(f"--- {p.name} ---\n{p.log()[-4000:]}" for p in parts)


@pytest.fixture(scope="module")
def pipeline(django_db_setup, django_db_blocker, tmp_path_factory):
    if "postgres" in settings.SERVICE_PROBLEMS:
        service_missing("PostgreSQL", settings.SERVICE_PROBLEMS["postgres"])
    if not shutil.which("redis-server"):
        service_missing(
            "Redis", "redis-server is not on PATH (apt install redis-server)"
        )
    from django.db import connection

    pipe = Pipeline(
        tmp_path_factory.mktemp("pipeline"), connection.settings_dict["NAME"]
    )
    try:
        pipe.redis.start(ready_text="Ready to accept connections")
        pipe.sink.start()
        pipe.start_worker()
        yield pipe
    finally:
        pipe.stop()


@pytest.fixture
def mail_pipeline(pipeline, transactional_db, request):
    """The running pipeline, with a fresh sink; the worker's log is printed on failure."""
    pipeline.sink.reset()
    if pipeline.redis.popen.poll() is not None:
        pipeline.redis.start(ready_text="Ready to accept connections")
    if not any(w.popen.poll() is None for w in pipeline.workers):
        pipeline.start_worker()
    yield pipeline
    pipeline.stop_beats()
    _settle()
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        print(pipeline.logs())


def _settle():
    """Waits until the worker is done with every row, so the flush that follows the
    test does not race it."""
    from notifications.models import Message

    with contextlib.suppress(AssertionError):
        wait_until(
            lambda: not Message.objects.filter(status=Message.Status.SENDING).exists(),
            timeout=10,
            what="the worker to finish",
        )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
