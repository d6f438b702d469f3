"""Anti-automation limits (events/ratelimits.py): per user, per user and event, per
address; a refused attempt changes nothing; the counts are shared by processes.

The limiter's clock is frozen (the `frozen` fixture), so no count ages out while a
test runs and every Retry-After is exact.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import reverse

from cities.models import CitySubscription
from events import ratelimits
from events.models import Registration
from notifications import links
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.support.door import JSON, at_the_door, make_volunteer

pytestmark = pytest.mark.django_db

Status = Registration.Status
NOW = 2_000_000_000.0  # 2033-05-18, far from any real clock


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(ratelimits, "clock", lambda: NOW)


def signed_in(**address) -> Client:
    """A client signed in as a new verified attendee (client.user), at REMOTE_ADDR
    127.0.0.1 unless address says otherwise (e.g. HTTP_X_FORWARDED_FOR)."""
    client = Client(**address)
    client.user = UserFactory()
    client.force_login(client.user)
    return client


def register(client, event):
    return client.post(reverse("events:register", args=[event.slug]))


def cancel(client, event):
    registration = Registration.objects.get(
        event=event, user=client.user, status__in=[Status.CONFIRMED, Status.WAITLISTED]
    )
    return client.post(reverse("events:cancel", args=[registration.pk]))


def active(event, user) -> list[str]:
    return list(
        Registration.objects.filter(event=event, user=user)
        .exclude(status=Status.CANCELLED)
        .values_list("status", flat=True)
    )


def assert_refused(response, *, minutes: int):
    assert response.status_code == 429
    assert response["Retry-After"] == str(minutes * 60)
    html = response.content.decode()
    assert "<h1>Too many attempts</h1>" in html
    unit = "minute" if minutes == 1 else "minutes"
    assert f"Try again in {minutes} {unit}." in html


# Registering and cancelling -------------------------------------------------------
def test_register_cancel_sixteenth_cycle_is_refused_with_429_and_no_email():
    """The issue: 15 cycles queued 30 emails in 4.4 s. 30 actions an hour is each
    person's limit (over 4 events here, so the per-event limit is not what stops it)."""
    client = signed_in()
    events = [EventFactory() for _ in range(4)]
    for cycle in range(15):
        event = events[cycle % 4]
        assert register(client, event).status_code == 302
        assert cancel(client, event).status_code == 302
    assert Message.objects.count() == 30

    response = register(client, events[15 % 4])

    assert_refused(response, minutes=60)
    assert Message.objects.count() == 30
    assert active(events[15 % 4], client.user) == []


def test_register_cancel_on_one_event_sixth_cycle_is_refused():
    client = signed_in()
    event = EventFactory()
    for _ in range(5):
        assert register(client, event).status_code == 302
        assert cancel(client, event).status_code == 302

    response = register(client, event)

    assert_refused(response, minutes=10)
    assert active(event, client.user) == []
    assert Message.objects.count() == 10
    # Another event is still open to the same person.
    assert register(client, EventFactory()).status_code == 302


def test_cancel_refused_keeps_the_seat_and_sends_nothing():
    client = signed_in()
    event = EventFactory()
    for _ in range(10):  # the first registers, the other nine find it registered
        assert register(client, event).status_code == 302

    response = cancel(client, event)

    assert_refused(response, minutes=10)
    assert active(event, client.user) == [Status.CONFIRMED]
    assert list(Message.objects.values_list("kind", flat=True)) == ["confirmed"]


def test_release_link_counts_against_the_seat_owner():
    client = signed_in()
    event = EventFactory()
    for _ in range(10):
        register(client, event)
    registration = Registration.objects.get(event=event, user=client.user)
    path = links.url(links.RELEASE_SEAT, registration.pk).removeprefix(
        "http://testserver"
    )

    response = Client().post(path)  # the emailed link: nobody signed in

    assert_refused(response, minutes=10)
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


def test_second_user_from_the_same_address_is_not_held_by_the_first_users_limit():
    first, second = signed_in(), signed_in()
    events = [EventFactory() for _ in range(4)]
    for cycle in range(15):
        register(first, events[cycle % 4])
        cancel(first, events[cycle % 4])
    assert register(first, events[3]).status_code == 429

    response = register(second, events[3])

    assert response.status_code == 302
    assert active(events[3], second.user) == [Status.CONFIRMED]


@pytest.fixture
def five_per_address(settings):
    """The per-address limit lowered to 5, so a test needs 6 people, not 201."""
    settings.TURNOUT_RATE_LIMITS = {
        **settings.TURNOUT_RATE_LIMITS,
        "registration": "10/10m/user+target,30/1h/user,5/10m/ip",
    }


def test_per_address_limit_catches_many_users_from_one_address(five_per_address):
    event = EventFactory(capacity=100)
    for _ in range(5):
        assert register(signed_in(), event).status_code == 302
    sixth = signed_in()

    response = register(sixth, event)

    assert_refused(response, minutes=10)
    assert active(event, sixth.user) == []
    assert Message.objects.count() == 5
    # Someone at another address is not held up.
    assert register(signed_in(REMOTE_ADDR="203.0.113.9"), event).status_code == 302


def test_behind_the_proxy_each_client_address_counts_alone(five_per_address, settings):
    """Through one proxy (one REMOTE_ADDR), the client's address is the one the
    proxy puts in X-Forwarded-For (ALLAUTH_TRUSTED_PROXY_COUNT), as for allauth."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    event = EventFactory(capacity=100)
    for _ in range(5):
        client = signed_in(HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
        assert register(client, event).status_code == 302

    same_client = signed_in(HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
    other_client = signed_in(HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy)

    assert register(same_client, event).status_code == 429
    assert register(other_client, event).status_code == 302


def test_client_ip_groups_an_ipv6_network_like_allauth():
    factory = RequestFactory()

    ips = {
        ratelimits.client_ip(factory.get("/", REMOTE_ADDR=address))
        for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9")
    }

    assert ips == {"2001:db8:1:2::/64"}


# Following a city ----------------------------------------------------------------
def test_follow_unfollow_eleventh_toggle_is_refused_and_changes_nothing():
    client = signed_in()
    EventFactory(city="London", country="GB")
    follow = reverse("cities:follow", args=["london"])
    unfollow = reverse("cities:unfollow", args=["london"])
    for _ in range(5):
        assert client.post(follow).status_code == 302
        assert client.post(unfollow).status_code == 302

    response = client.post(follow)

    assert_refused(response, minutes=10)
    assert CitySubscription.objects.count() == 0


# The door ------------------------------------------------------------------------
def test_checkin_scan_121st_in_a_minute_answers_rate_limited_json(client):
    """120 scans a minute per volunteer pass (a busy door); the 121st is refused,
    and a valid ticket in it is not checked in."""
    event = at_the_door()
    registration = RegistrationFactory(event=event)
    client.force_login(make_volunteer())
    url = reverse("checkin:scan", args=[event.slug])
    answers = [
        client.post(url, {"code": "not a ticket"}, **JSON).json()["status"]
        for _ in range(120)
    ]
    assert answers == ["unknown"] * 120

    response = client.post(url, {"code": registration.ticket_code}, **JSON)

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response.json() == {
        "ok": False,
        "status": "rate_limited",
        "headline": "Not checked in",
        "message": "Too many attempts. Try again in 1 minute.",
        "name": "",
        "first": False,
        "checked_in_at": "",
        "checked_in_at_local": "",
        "checked_in_by": "",
    }
    registration.refresh_from_db()
    assert registration.checked_in_at is None


def test_checkin_scan_rate_limited_without_javascript_shows_it_on_the_door(
    client, settings
):
    settings.TURNOUT_RATE_LIMITS = {"checkin": "1/1m/user"}
    event = at_the_door()
    client.force_login(make_volunteer())
    url = reverse("checkin:scan", args=[event.slug])
    client.post(url, {"code": "not a ticket"})

    response = client.post(url, {"code": "not a ticket"})

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    html = response.content.decode()
    assert 'data-status="rate_limited"' in html
    assert "Too many attempts. Try again in 1 minute." in html
    assert 'id="checkin-form"' in html  # the volunteer stays at the door


# The limiter itself --------------------------------------------------------------
@pytest.fixture
def two_a_minute(settings):
    settings.TURNOUT_RATE_LIMITS = {"test": "2/1m/user,3/1m/ip"}


def test_consume_retry_after_counts_from_the_oldest_attempt(two_a_minute):
    def attempt(at, user=1):
        return ratelimits.consume("test", user=user, ip="192.0.2.1", now=NOW + at)

    assert [attempt(0), attempt(10)] == [None, None]
    assert attempt(20) == ratelimits.Limited(retry_after=40)
    # The refused attempt at 20 was not counted: at 60 the first has aged out and
    # one more fits; at 61 the window holds 10 and 60 again.
    assert attempt(60) is None
    assert attempt(61) == ratelimits.Limited(retry_after=9)
    # Another user at the same address: the address has room for one more in its
    # window (10, 60), then is full.
    assert attempt(62, user=2) is None
    assert attempt(63, user=3) == ratelimits.Limited(retry_after=7)


def test_consume_without_a_configured_action_never_refuses(settings):
    settings.TURNOUT_RATE_LIMITS = {}

    assert [ratelimits.consume("register", user=1, now=NOW) for _ in range(50)] == [
        None
    ] * 50


@pytest.mark.parametrize("rate", ["ten/1m/user", "1/1w/user", "1/1m/everyone", "1/m"])
def test_malformed_rate_is_improperly_configured(rate):
    with pytest.raises(ImproperlyConfigured):
        ratelimits.parse_rates(rate)


# Shared by processes ---------------------------------------------------------------
ATTEMPTS = """
import json, sys
import django
django.setup()
from events import ratelimits
count, now = int(sys.argv[1]), float(sys.argv[2])
allowed = [
    ratelimits.consume("test", user=1, ip="203.0.113.7", now=now) is None
    for _ in range(count)
]
print(json.dumps(sum(allowed)))
"""

# The project's settings (its cache: the file cache in TURNOUT_CACHE_DIR), with a
# limit of 30 for the test; the control swaps the cache for a per-process one.
SHARED_SETTINGS = """
from config.settings import *  # noqa: F403

TURNOUT_RATE_LIMITS = {"test": "30/1h/user"}
"""
LOCMEM_SETTINGS = """
from shared_settings import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
"""


def allowed_in_two_processes(tmp_path: Path, settings_module: str) -> list[int]:
    """Two Python processes, one after the other, each make 20 attempts as the
    same user against a limit of 30, sharing one cache folder; returns how many
    each was allowed."""
    (tmp_path / "shared_settings.py").write_text(SHARED_SETTINGS)
    (tmp_path / "locmem_settings.py").write_text(LOCMEM_SETTINGS)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        TURNOUT_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(django_settings.BASE_DIR)]),
        DJANGO_DEBUG="1",
    )
    counts = []
    for _ in range(2):
        done = subprocess.run(  # noqa: S603 -- our own script
            [sys.executable, "-c", ATTEMPTS, "20", repr(NOW)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        counts.append(json.loads(done.stdout.splitlines()[-1]))
    return counts


def test_counts_are_shared_by_processes(tmp_path):
    """The project's file cache: the second process sees the first one's 20 and is
    allowed only the 10 left of the 30 an hour."""
    assert allowed_in_two_processes(tmp_path, "shared_settings") == [20, 10]


def test_counts_in_a_per_process_memory_cache_are_not_shared(tmp_path):
    """The control: with LocMemCache each process counts alone and lets 40 through,
    more than the limit, so the test above can fail."""
    assert allowed_in_two_processes(tmp_path, "locmem_settings") == [20, 20]
