"""People own their data: download it, delete the account, and the timezone switcher's
next that once answered 500."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import DELETION, LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import privacy
from accounts.models import User
from events import outbox, services
from events.models import CitySubscription, Message, Registration
from events.selectors import City
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind, Status = Message.Kind, Message.Status
PASSWORD = "correct horse battery"


# The timezone switcher's next ------------------------------------------------------
@pytest.mark.parametrize("target", ["-1", "a b", "日本語", "foo.bar"])
def test_set_timezone_with_an_odd_next_redirects_home(client, target):
    response = client.post(
        reverse("accounts:set_timezone"), {"timezone": "Asia/Tokyo", "next": target}
    )
    assert (response.status_code, response["Location"]) == (302, "/")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example"]
)
def test_set_timezone_never_redirects_offsite(client, target):
    response = client.post(
        reverse("accounts:set_timezone"), {"timezone": "Asia/Tokyo", "next": target}
    )
    assert (response.status_code, response["Location"]) == (302, "/")


def test_set_timezone_keeps_a_local_next_with_its_query(client):
    response = client.post(
        reverse("accounts:set_timezone"),
        {"timezone": "Asia/Tokyo", "next": "/cities/tokyo/?page=2"},
    )
    assert (response.status_code, response["Location"]) == (
        302,
        "/cities/tokyo/?page=2",
    )


# Delivery of what was queued for an account that is gone ---------------------------
def test_deliver_skips_city_news_queued_for_a_deleted_account(mailbox):
    follower = UserFactory()
    event = EventFactory(city="Lisbon", country="PT", status="draft")
    services.follow_city(
        user=follower, city=City(slug="lisbon", name="Lisbon", country="PT")
    )
    services.publish_event(event=event)
    (news,) = Message.objects.filter(kind=Kind.CITY_NEWS)
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


# Helpers ---------------------------------------------------------------------------
def registered(event, user):
    return services.register(event=event, user=user)


def started_event(**fields):
    now = timezone.now()
    return EventFactory(
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2), **fields
    )


def reauthenticated(client, user):
    """Signs user in and confirms the password again, as allauth asks before
    deleting an account."""
    client.force_login(user)
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302
    return client


def sessions_of(user):
    return set(privacy.session_expiries(user))


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
    services.follow_city(
        user=user, city=City(slug="lisbon", name="Lisbon", country="PT")
    )
    reset = Message.objects.create(
        kind=Kind.ACCOUNT,
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
    services.check_in(event=door, code=ticket.ticket_code, by=None)

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
        "events.Message.user",  # exported (no bodies), erased
        "events.CitySubscription.user",  # exported, deleted
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


# Delete my account: the pages ------------------------------------------------------
def test_delete_account_asks_for_the_password_again_first(client):
    user = UserFactory()
    client.force_login(user)

    response = client.get(reverse("accounts:delete_account"))

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("account_reauthenticate") + "?next=%2Fme%2Fdelete%2F"
    )
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_account_post_without_reauthentication_deletes_nothing(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("accounts:delete_account"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_account_page_says_what_happens_to_each_registration(client):
    user = UserFactory()
    upcoming = EventFactory(title="Next month")
    registered(upcoming, user)
    now_on = started_event(title="On now")
    Registration.objects.create(
        event=now_on, user=user, status="confirmed", confirmed_at=timezone.now()
    )
    reauthenticated(client, user)

    response = client.get(reverse("accounts:delete_account"))

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-testid="to-cancel">\s*<li>Next month', html)
    assert re.search(r'data-testid="to-keep">\s*<li>On now', html)
    assert "<h1" in html and "Delete your account?" in html


def test_delete_account_signs_out_and_says_goodbye(client):
    user = UserFactory()
    reauthenticated(client, user)

    response = client.post(reverse("accounts:delete_account"))

    assert (response.status_code, response["Location"]) == (
        302,
        reverse("accounts:goodbye"),
    )
    assert not User.objects.filter(pk=user.pk).exists()
    assert "_auth_user_id" not in client.session
    goodbye = client.get(reverse("accounts:goodbye"))
    assert goodbye.status_code == 200
    assert "Your account is deleted" in goodbye.content.decode()


def test_delete_account_needs_the_csrf_token():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("accounts:delete_account")).status_code == 403
    assert User.objects.filter(pk=user.pk).exists()


# Delete my account: the service ----------------------------------------------------
def test_delete_account_cancels_upcoming_and_the_waitlist_moves(mailbox):
    event = EventFactory(capacity=1)
    leaving, waiting = UserFactory(), UserFactory()
    seat = registered(event, leaving)
    queue = registered(event, waiting)
    mailbox()
    sent_before = len(mailbox())

    deleted = privacy.delete_account(user=leaving)

    assert deleted == privacy.DeletedAccount(
        cancelled=1, anonymised=1, messages=2, sessions=0
    )
    seat.refresh_from_db()
    queue.refresh_from_db()
    assert (seat.status, seat.user) == (Registration.Status.CANCELLED, None)
    assert queue.status == Registration.Status.CONFIRMED
    # The person promoted is told; the deleted account is sent nothing more.
    assert [m.to for m in mailbox()[sent_before:]] == [[waiting.email]]
    assert not User.objects.filter(pk=leaving.pk).exists()


def test_delete_account_keeps_registrations_of_started_events_without_a_person():
    user = UserFactory()
    event = started_event(capacity=2)
    kept = Registration.objects.create(
        event=event, user=user, status="confirmed", confirmed_at=timezone.now()
    )
    old_code = kept.ticket_code

    privacy.delete_account(user=user)

    kept.refresh_from_db()
    assert (kept.status, kept.user, kept.event) == ("confirmed", None, event)
    assert kept.ticket_code != old_code  # the code in their mailbox leads nowhere
    assert Registration.objects.filter(event=event).confirmed().count() == 1


def test_delete_account_erases_mail_and_skips_what_is_queued(mailbox):
    user = UserFactory(email="ada@example.com")
    registered(EventFactory(), user)
    (sent,) = [m for m in Message.objects.all()]
    mailbox()
    queued = Message.objects.create(
        kind=Kind.ACCOUNT,
        user=user,
        to_email=user.email,
        subject="[Turnout] Sign-In Code",
        body_text="Your code: ABCD-1234",
    )
    unrelated = Message.objects.create(
        kind=Kind.ACCOUNT, to_email="x@example.com", status=Status.SENT
    )

    privacy.delete_account(user=user)

    sent.refresh_from_db()
    assert (sent.status, sent.to_email, sent.user, sent.body_text, sent.ics) == (
        Status.SENT,
        "",
        None,
        "",
        "",
    )
    assert sent.subject.startswith("[Turnout]")  # the log keeps what, not whom
    assert sent.dedupe_key is None
    queued.refresh_from_db()
    assert (queued.status, queued.last_error, queued.body_text, queued.to_email) == (
        Status.SKIPPED,
        outbox.ERASED_RECIPIENT,
        "",
        "",
    )
    unrelated.refresh_from_db()
    assert unrelated.to_email == "x@example.com"
    assert len(mailbox()) == 1  # the confirmation, sent before; nothing since


def test_delete_account_deletes_follows_addresses_authenticators_and_sessions():
    user, other = UserFactory(), UserFactory()
    for person in (user, other):
        services.follow_city(
            user=person, city=City(slug="oslo", name="Oslo", country="NO")
        )
        Authenticator.objects.create(user=person, type=Authenticator.Type.TOTP, data={})
    for person in (user, user, other):
        Client().force_login(person)
    assert len(sessions_of(user)) == 2

    deleted = privacy.delete_account(user=user)

    assert deleted.sessions == 2
    assert sessions_of(user) == set()
    assert len(sessions_of(other)) == 1
    assert list(CitySubscription.objects.values_list("user", flat=True)) == [other.pk]
    assert list(EmailAddress.objects.values_list("user", flat=True)) == [other.pk]
    assert list(Authenticator.objects.values_list("user", flat=True)) == [other.pk]


def test_delete_account_history_no_longer_names_the_person():
    staff = UserFactory(is_staff=True)
    user = UserFactory(name="Ada Lovelace")
    event = EventFactory(capacity=0)
    registration = registered(event, user)
    services.promote(registration=registration, by=staff)
    entry = LogEntry.objects.get(
        content_type__model="registration", object_id=str(registration.pk)
    )
    assert "Ada Lovelace" in entry.object_repr

    privacy.delete_account(user=user)

    entry.refresh_from_db()
    assert entry.object_repr.startswith("anonymous → ")
    assert "Ada" not in entry.object_repr


def test_delete_account_is_idempotent():
    user = UserFactory()
    privacy.delete_account(user=user)
    assert privacy.delete_account(user=user) == privacy.DeletedAccount(
        cancelled=0, anonymised=0, messages=0, sessions=0
    )


# Delete in the admin -------------------------------------------------------------
@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_delete_goes_through_the_service(admin_client_):
    event = EventFactory(capacity=1)
    leaving, waiting = UserFactory(), UserFactory()
    seat = registered(event, leaving)
    queue = registered(event, waiting)

    response = admin_client_.post(
        reverse("admin:accounts_user_delete", args=[leaving.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not User.objects.filter(pk=leaving.pk).exists()
    seat.refresh_from_db()
    queue.refresh_from_db()
    assert (seat.status, seat.user) == (Registration.Status.CANCELLED, None)
    assert queue.status == Registration.Status.CONFIRMED
    deletion = LogEntry.objects.get(action_flag=DELETION)
    assert deletion.object_repr == f"deleted account #{leaving.pk}"


def test_admin_bulk_delete_goes_through_the_service(admin_client_):
    event = EventFactory(capacity=2)
    leaving = [UserFactory(), UserFactory()]
    waiting = UserFactory()
    seats = [registered(event, user) for user in leaving]
    queue = registered(event, waiting)

    response = admin_client_.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [user.pk for user in leaving],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[u.pk for u in leaving]).exists()
    assert Registration.objects.filter(pk__in=[s.pk for s in seats]).count() == 2
    queue.refresh_from_db()
    assert queue.status == Registration.Status.CONFIRMED
