"""Delete my account: the pages, the service, and deleting a user in the admin."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import DELETION, LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import privacy
from accounts.messages import ACCOUNT
from accounts.models import User
from cities import services as city_services
from cities.models import CitySubscription
from cities.selectors import City
from events import services
from events.models import Registration
from notifications import delivery
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.support.people import (
    reauthenticated,
    registered,
    sessions_of,
    started_event,
)

pytestmark = pytest.mark.django_db

Status = Message.Status


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
        kind=ACCOUNT,
        user=user,
        to_email=user.email,
        subject="[Turnout] Sign-In Code",
        body_text="Your code: ABCD-1234",
    )
    unrelated = Message.objects.create(
        kind=ACCOUNT, to_email="x@example.com", status=Status.SENT
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
        delivery.ERASED_RECIPIENT,
        "",
        "",
    )
    unrelated.refresh_from_db()
    assert unrelated.to_email == "x@example.com"
    assert len(mailbox()) == 1  # the confirmation, sent before; nothing since


def test_delete_account_deletes_follows_addresses_authenticators_and_sessions():
    user, other = UserFactory(), UserFactory()
    for person in (user, other):
        city_services.follow_city(
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
