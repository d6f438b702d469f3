"""Signed links: one place makes and reads each, with its salt and its lifetime."""

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import resolve

from events.models import Registration
from notifications import links
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = 24 * 60 * 60


def token_of(path: str) -> str:
    return resolve(path).kwargs["token"]


def test_each_link_reads_its_own_value_back(link_clock):
    for link, value in [
        (links.RELEASE_SEAT, 7),
        (links.STOP_REMINDERS, 7),
        (links.UNFOLLOW_CITY, [7, "london"]),
    ]:
        assert links.read(link, token_of(links.path(link, value))) == value


def test_a_token_made_for_one_link_does_not_read_as_another(link_clock):
    token = token_of(links.path(links.STOP_REMINDERS, 7))

    with pytest.raises(signing.BadSignature):
        links.read(links.RELEASE_SEAT, token)


def test_a_link_made_in_the_same_second_is_the_same_link(link_clock):
    made = links.path(links.UNFOLLOW_CITY, [7, "london"])
    link_clock.now += 0.9

    assert links.path(links.UNFOLLOW_CITY, [7, "london"]) == made


def test_links_in_emails_sent_before_this_module_still_read():
    """Emails already sent carry tokens of signing.dumps with the same salts."""
    for link, value in [
        (links.RELEASE_SEAT, 7),
        (links.STOP_REMINDERS, 7),
        (links.UNFOLLOW_CITY, [7, "london"]),
    ]:
        token = signing.dumps(value, salt=link.salt, compress=True)
        assert links.read(link, token) == value


def test_lifetimes_are_a_year_except_the_release_link():
    assert links.STOP_REMINDERS.max_age == timedelta(days=365)
    assert links.UNFOLLOW_CITY.max_age == timedelta(days=365)
    assert links.RELEASE_SEAT.max_age is None


def test_a_token_older_than_its_links_lifetime_is_expired(link_clock):
    token = token_of(links.path(links.STOP_REMINDERS, 7))
    link_clock.now += 365 * DAY
    assert links.read(links.STOP_REMINDERS, token) == 7
    link_clock.now += 1

    with pytest.raises(signing.SignatureExpired):
        links.read(links.STOP_REMINDERS, token)


def test_the_release_link_has_no_age_limit_of_its_own(client, link_clock):
    """It ends with its event's start (test_outbox), however long before it was made:
    an event far ahead keeps the link in its confirmation working."""
    registration = RegistrationFactory(event=EventFactory(), user=UserFactory())
    path = links.url(links.RELEASE_SEAT, registration.pk).removeprefix(
        "http://testserver"
    )
    link_clock.now += 3 * 365 * DAY

    assert "Give up your seat?" in client.get(path).content.decode()
    response = Client().post(path)

    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
