"""People own their data: download it; what was queued for them is not sent once
they are gone. Deleting the account: test_account_deletion.py."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import privacy
from accounts.messages import ACCOUNT
from accounts.models import User
from checkin import services as checkin_services
from cities import services as city_services
from cities.messages import CITY_NEWS
from cities.selectors import City
from events import services
from events.models import Registration
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.support.people import (
    registered,
    started_event,
)

pytestmark = pytest.mark.django_db

Status = Message.Status


# Delivery of what was queued for an account that is gone ---------------------------
def test_deliver_skips_city_news_queued_for_a_deleted_account(mailbox):
    follower = UserFactory()
    event = EventFactory(city="Lisbon", country="PT", status="draft")
    city_services.follow_city(
        user=follower, city=City(slug="lisbon", name="Lisbon", country="PT")
    )
    services.publish_event(event=event)
    (news,) = Message.objects.filter(kind=CITY_NEWS)
    follower.delete()  # a raw delete, around every service

    assert mailbox() == []
    news.refresh_from_db()
    assert (news.status, news.last_error) == (
        Status.SKIPPED,
        "The recipient's account was deleted, or their data erased, "
        "before this could be sent.",
    )


def test_news_of_a_change_is_not_queued_for_an_anonymous_registration(mailbox):
    now = timezone.now()
    event = EventFactory(starts_at=now - timedelta(hours=1))
    kept = Registration.objects.create(
        event=event, user=None, status="confirmed", confirmed_at=now
    )

    services.update_event_details(event=event, venue_name="The Annex")

    assert not Message.objects.filter(registration=kept).exists()
    assert mailbox() == []


def test_deliver_skips_a_message_whose_registration_was_erased_after_queueing(
    mailbox,
):
    now = timezone.now()
    event = EventFactory(starts_at=now - timedelta(hours=1))
    kept = Registration.objects.create(
        event=event, user=UserFactory(), status="confirmed", confirmed_at=now
    )
    services.update_event_details(event=event, venue_name="The Annex")
    Registration.objects.filter(pk=kept.pk).update(user=None)
    Message.objects.filter(registration=kept).update(user=None, to_email="")

    (changed,) = Message.objects.filter(registration=kept)
    assert mailbox() == []
    changed.refresh_from_db()
    assert (changed.status, changed.to_email, changed.user) == (
        Status.SKIPPED,
        "",
        None,
    )


# Download my data ------------------------------------------------------------------
def test_download_data_is_refused_on_get(client):
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:download_data")).status_code == 405


def test_download_data_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    assert client.post(reverse("accounts:download_data")).status_code == 403


def test_download_data_sends_an_anonymous_visitor_to_sign_in(client):
    response = client.post(reverse("accounts:download_data"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_download_data_is_one_json_attachment_of_the_signed_in_users_data(client):
    user = UserFactory(
        email="ada@example.com", name="Ada", timezone="Europe/London", language="fr"
    )
    EmailAddress.objects.create(user=user, email="ada@work.example", verified=False)
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "TOPSECRET"}
    )
    lisbon = EventFactory(
        title="Lisbon stop",
        slug="lisbon-stop",
        city="Lisbon",
        country="PT",
        timezone="Europe/Lisbon",
        starts_at=datetime(2030, 7, 1, 17, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 1, 20, 0, tzinfo=UTC),
        capacity=1,
    )
    registration = registered(lisbon, user)
    city_services.follow_city(
        user=user, city=City(slug="lisbon", name="Lisbon", country="PT")
    )
    reset = Message.objects.create(
        kind=ACCOUNT,
        to_email="ADA@example.com",
        subject="[Turnout] Password Reset",
        body_text="Your reset key: RESET-KEY-123",
    )
    other = UserFactory(email="grace@example.com")
    registered(EventFactory(title="Not hers"), other)
    client.force_login(user)

    response = client.post(reverse("accounts:download_data"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="turnout-my-data-\d{4}-\d{2}-\d{2}\.json"',
        response["Content-Disposition"],
    )
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    for secret in ("RESET-KEY-123", "TOPSECRET", user.password, "grace", "Not hers"):
        assert secret not in text
    data = json.loads(text)
    assert data["format"] == "turnout-personal-data/1"
    assert data["profile"] == {
        "email": "ada@example.com",
        "name": "Ada",
        "language": "fr",
        "timezone": "Europe/London",
        "email_reminders": True,
        "date_joined": user.date_joined.isoformat(),
        "last_login": User.objects.get(pk=user.pk).last_login.isoformat(),
        "is_active": True,
        "is_staff": False,
        "groups": [],
    }
    assert data["email_addresses"] == [
        {"email": "ada@example.com", "verified": True, "primary": True},
        {"email": "ada@work.example", "verified": False, "primary": False},
    ]
    assert [(a["type"], a["last_used"]) for a in data["two_factor"]] == [("totp", None)]
    assert len(data["sessions"]) == 1
    assert data["registrations"] == [
        {
            "event": {
                "title": "Lisbon stop",
                "slug": "lisbon-stop",
                "city": "Lisbon",
                "country": "PT",
                "timezone": "Europe/Lisbon",
                "starts_at": "2030-07-01T17:00:00+00:00",
                "starts_at_local": "2030-07-01T18:00:00+01:00",
                "ends_at": "2030-07-01T20:00:00+00:00",
                "ends_at_local": "2030-07-01T21:00:00+01:00",
            },
            "status": "confirmed",
            "ticket_code": registration.ticket_code,
            "registered_at": registration.created_at.isoformat(),
            "confirmed_at": registration.confirmed_at.isoformat(),
            "waitlisted_at": None,
            "cancelled_at": None,
            "checked_in_at": None,
        }
    ]
    assert [(f["city"], f["city_slug"]) for f in data["city_follows"]] == [
        ("Lisbon", "lisbon")
    ]
    confirmation = Message.objects.get(registration=registration)
    assert data["emails"] == [
        {
            "subject": "",  # not rendered yet: it is still queued
            "kind": "confirmed",
            "status": "queued",
            "to": "ada@example.com",
            "created_at": confirmation.created_at.isoformat(),
            "sent_at": None,
        },
        {
            "subject": "[Turnout] Password Reset",
            "kind": "account",
            "status": "queued",
            "to": "ADA@example.com",
            "created_at": reset.created_at.isoformat(),
            "sent_at": None,
        },
    ]


def test_export_lists_every_registration_time(client):
    user = UserFactory()
    full = EventFactory(capacity=0)
    waiting = registered(full, user)
    services.cancel_registration(registration=waiting)
    door = started_event()
    ticket = Registration.objects.create(
        event=door, user=user, status="confirmed", confirmed_at=timezone.now()
    )
    checkin_services.check_in(event=door, code=ticket.ticket_code, by=None)

    data = privacy.export(user=user)

    waiting.refresh_from_db()
    ticket.refresh_from_db()
    times = [
        (r["status"], r["waitlisted_at"], r["cancelled_at"], r["checked_in_at"])
        for r in data["registrations"]
    ]
    assert times == [
        ("confirmed", None, None, ticket.checked_in_at.isoformat()),
        (
            "cancelled",
            waiting.waitlisted_at.isoformat(),
            waiting.cancelled_at.isoformat(),
            None,
        ),
    ]


def test_export_never_lists_another_accounts_mail_to_an_address_now_theirs():
    before = UserFactory(email="shared@example.com")
    registered(EventFactory(title="Before's event"), before)
    before.email = "moved@example.com"
    before.save()
    EmailAddress.objects.filter(user=before).update(email="moved@example.com")
    after = UserFactory(email="shared@example.com")

    assert privacy.export(user=after)["emails"] == []


def test_export_covers_every_field_of_the_user():
    exported = set(privacy.export(user=UserFactory())["profile"])
    # Not personal data, or secret: the row's id, the password hash, and the
    # permissions staff hold (their groups are exported).
    left_out = {"id", "password", "is_superuser", "user_permissions"}
    fields = {field.name for field in User._meta.get_fields() if field.concrete}
    assert fields - left_out == exported


def test_every_relation_to_the_user_has_a_place_in_export_and_delete():
    """A new model pointing at users holds personal data: it needs a line in
    accounts.privacy (export and delete) and events.retention, then here."""
    relations = {
        f"{relation.related_model._meta.label}.{relation.field.name}"
        for relation in User._meta.get_fields(include_hidden=True)
        if relation.auto_created and not relation.concrete
    }
    assert relations == {
        "account.EmailAddress.user",  # exported, deleted
        "mfa.Authenticator.user",  # exported (no secrets), deleted
        "events.Registration.user",  # exported, cancelled or anonymised
        "events.Registration.checked_in_by",  # staff at the door: emptied
        "notifications.Message.user",  # exported (no bodies), erased
        "cities.CitySubscription.user",  # exported, deleted
        "admin.LogEntry.user",  # staff's own actions, deleted with them
        "accounts.User_groups.user",  # exported (names), deleted with the user
        "accounts.User_user_permissions.user",  # staff's rights, deleted too
    }


# The profile page ------------------------------------------------------------------
def test_profile_offers_download_and_delete(client):
    client.force_login(UserFactory())
    html = client.get(reverse("accounts:profile")).content.decode()
    assert f'action="{reverse("accounts:download_data")}"' in html
    assert f'href="{reverse("accounts:delete_account")}"' in html
    assert reverse("mfa_index") not in html


def test_profile_links_two_factor_for_staff(client):
    client.force_login(UserFactory(is_staff=True))
    html = client.get(reverse("accounts:profile")).content.decode()
    assert f'<a href="{reverse("mfa_index")}">Two-factor authentication</a>' in html
