"""The event lock gives up: a change that cannot have the event's row within
EVENT_LOCK_TIMEOUT_SECONDS is refused as busy, never a hung worker. Another
connection holds the row, as a slow admin save does for its whole request."""

import threading
from contextlib import contextmanager

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.urls import reverse

from events import exceptions, services
from events.models import Event, Registration
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.support.admin import change_form_data
from tests.support.people import reauthenticated
from tests.support.races import GATE_TIMEOUT, raw_connection, wait_for_lock_waiters

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Status = Registration.Status


# The lock gives up: busy, never a hung worker ---------------------------------------
@contextmanager
def event_row_held(event):
    """Another connection holds the event's row lock until the block ends, as a
    slow admin save does for its whole request."""
    with raw_connection() as blocker:
        blocker.execute("BEGIN")
        blocker.execute(
            "SELECT id FROM events_event WHERE id = %s FOR UPDATE", [event.pk]
        )
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")


def _in_a_thread(call):
    """Starts call in a thread (and connection) of its own; returns (thread, outcome)."""
    outcome = {}

    def attempt():
        try:
            outcome["result"] = call()
        except Exception as error:  # noqa: BLE001 -- reported to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    return thread, outcome


def _register_in_a_thread(event, user):
    return _in_a_thread(lambda: services.register(event=event, user=user))


def test_register_while_the_event_is_held_gives_up_busy(settings):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    with event_row_held(event):
        thread, outcome = _register_in_a_thread(event, UserFactory())
        thread.join(timeout=10)  # fifty times the timeout: promptly, on a busy box
        gave_up = not thread.is_alive()
    thread.join(timeout=GATE_TIMEOUT)

    assert gave_up
    assert isinstance(outcome.get("error"), exceptions.EventBusy)
    assert Registration.objects.filter(event=event).count() == 0


def test_register_while_the_event_is_held_waits_without_the_timeout(settings):
    """The control: with the timeout switched off the same registration is still
    waiting after a second (five times the timeout above), and goes through once
    the lock is let go, so the test above can fail."""
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0
    event = EventFactory(capacity=5)
    with event_row_held(event):
        thread, outcome = _register_in_a_thread(event, UserFactory())
        with raw_connection() as monitor:
            wait_for_lock_waiters(monitor, 1)
        thread.join(timeout=1)
        still_waiting = thread.is_alive()
    thread.join(timeout=GATE_TIMEOUT)

    assert still_waiting
    assert outcome["result"].status == Status.CONFIRMED


def test_the_lock_timeout_covers_only_the_wait_for_the_event(settings):
    """Once the event is locked, the transaction's own lock_timeout is back to what
    it was: a caller's longer transaction (the admin's request) is not cut short."""
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '7s'")
        services.set_capacity(event=event, capacity=6)
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            (after,) = cursor.fetchone()

    assert after == "7s"


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


BUSY = str(exceptions.EventBusy.default_message)


def test_registering_while_the_event_is_held_says_busy_and_try_again(client, settings):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    client.force_login(UserFactory())
    with event_row_held(event):
        response = client.post(reverse("events:register", args=[event.slug]))

    assert (response.status_code, response["Location"]) == (
        302,
        event.get_absolute_url(),
    )
    assert _messages(response) == [BUSY]
    assert Registration.objects.filter(event=event).count() == 0


def test_cancelling_while_the_event_is_held_says_busy_and_changes_nothing(
    client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    registration = services.register(event=event, user=UserFactory())
    client.force_login(registration.user)
    with event_row_held(event):
        response = client.post(reverse("events:cancel", args=[registration.pk]))

    assert (response.status_code, response["Location"]) == (
        302,
        event.get_absolute_url(),
    )
    assert _messages(response) == [BUSY]
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


def test_admin_saving_a_held_event_says_busy_and_saves_nothing(admin_client, settings):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5, title="Before")
    url = reverse("admin:events_event_change", args=[event.pk])
    with event_row_held(event):
        thread, outcome = _in_a_thread(
            lambda: admin_client.post(
                url, change_form_data(event, title="After", capacity=9)
            )
        )
        thread.join(timeout=10)
        answered = not thread.is_alive()
    thread.join(timeout=GATE_TIMEOUT)

    assert answered
    response = outcome["result"]
    assert (response.status_code, response["Location"]) == (302, url)
    assert _messages(response) == [BUSY]
    event.refresh_from_db()
    assert (event.title, event.capacity) == ("Before", 5)


def test_deleting_an_account_while_its_event_is_held_says_busy_and_deletes_nothing(
    client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    registration = services.register(event=event, user=UserFactory())
    reauthenticated(client, registration.user)
    with event_row_held(event):
        response = client.post(reverse("accounts:delete_account"))

    assert (response.status_code, response["Location"]) == (
        302,
        reverse("accounts:delete_account"),
    )
    assert _messages(response) == [BUSY]
    registration.refresh_from_db()
    assert (registration.user_id, registration.status) == (
        registration.user.pk,
        Status.CONFIRMED,
    )


def test_admin_cancelling_a_held_event_says_busy_and_cancels_nothing(
    admin_client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    with event_row_held(event):
        response = admin_client.post(
            reverse("admin:events_event_changelist"),
            {
                "action": "cancel_events",
                "_selected_action": [event.pk],
                "confirm": "yes",
            },
        )

    assert response.status_code == 302
    assert _messages(response) == [
        f"{event}: {BUSY}",
        "0 events cancelled; attendees are being told.",
    ]
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED


def test_admin_emailing_a_held_event_says_busy_and_keeps_the_form(
    admin_client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    services.register(event=event, user=UserFactory())
    Message.objects.all().delete()
    fields = {"subject": "Doors at 5:30", "body": "Hi", "key": "k-busy"}
    with event_row_held(event):
        response = admin_client.post(
            reverse("admin:events_event_changelist"),
            {
                "action": "email_attendees",
                "_selected_action": [event.pk],
                "confirm": "yes",
                **fields,
            },
        )

    assert response.status_code == 200  # the form again, as filled in, to send again
    assert response.context["form"]["key"].value() == "k-busy"
    assert _messages(response) == [BUSY]
    assert not Message.objects.exists()
