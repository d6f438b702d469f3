import os

import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def service_missing(service: str, reason: str) -> None:
    """Skips the test with a loud reason, or fails it in CI, where every service must be up."""
    message = f"needs {service}: {reason}"
    if IN_CI:
        pytest.fail(f"CI=true and this test {message}", pytrace=False)
    pytest.skip(message)


def pytest_runtest_setup(item):
    for marker, service in (("postgres", "PostgreSQL"), ("redis", "Redis")):
        if item.get_closest_marker(marker) and marker in settings.SERVICE_PROBLEMS:
            service_missing(service, settings.SERVICE_PROBLEMS[marker])


def pytest_report_header(config):
    from django.db import connection

    lines = [
        f"database: {connection.vendor} {connection.settings_dict.get('HOST') or ''}"
    ]
    for name, problem in settings.SERVICE_PROBLEMS.items():
        lines.append(f"service missing: {name}: {problem}")
    return lines


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps its rate limits in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _hand_overs_resumed():
    """No test inherits the outbox's paused hand-overs from another: the broker an
    earlier test could not reach (or stopped) says nothing about this one's."""
    from notifications import outbox

    outbox.resume_hand_overs()
    yield
    outbox.resume_hand_overs()


@pytest.fixture
def link_clock(monkeypatch):
    """Freezes the clock signed links are stamped and read by (notifications.links) at
    link_clock.now, seconds since the epoch; move it by setting link_clock.now."""
    from notifications import links

    class Clock:
        now = 2_000_000_000.0  # 2033-05-18, far from any real clock

    clock = Clock()
    monkeypatch.setattr(links, "clock", lambda: clock.now)
    return clock


@pytest.fixture
def mailbox(db):
    """Delivers what the outbox has queued, through the same function the worker
    calls, and returns everything sent so far (Django's test mail backend)."""
    from django.core import mail

    from notifications import delivery
    from notifications.models import Message

    def deliver():
        queued = Message.objects.filter(status=Message.Status.QUEUED)
        delivery.deliver(list(queued.values_list("pk", flat=True)))
        return mail.outbox

    return deliver
