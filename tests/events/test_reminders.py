import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from events import reminders, services
from events.messages import Kind, for_registration
from events.models import Event, Registration
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Message.Status
DAY, TWO_HOURS = 24 * 60, 2 * 60


def reminder_rows(**filters):
    return Message.objects.filter(kind=Kind.REMINDER, **filters)


def event_starting_in(delta, **fields):
    now = timezone.now()
    return EventFactory(
        starts_at=now + delta, ends_at=now + delta + timedelta(hours=3), **fields
    )


def test_due_reminder_is_queued_once_per_registration_and_offset():
    event = event_starting_in(timedelta(hours=23))
    registrations = RegistrationFactory.create_batch(3, event=event)

    first = reminders.dispatch(now=timezone.now())
    second = reminders.dispatch(now=timezone.now())

    assert (first.queued, second.queued) == (3, 0)
    rows = reminder_rows(status=Status.QUEUED)
    assert sorted(rows.values_list("registration_id", flat=True)) == sorted(
        r.pk for r in registrations
    )
    assert {row.context["offset"] for row in rows} == {DAY}


def test_reminder_not_yet_due_is_not_queued():
    RegistrationFactory(event=event_starting_in(timedelta(hours=25)))
    assert reminders.dispatch(now=timezone.now()).queued == 0
    assert not reminder_rows().exists()


def test_registered_after_the_reminder_time_gets_no_reminder_for_it():
    """pretix#3757: a same-day registrant must not get the "1 day before" reminder."""
    now = timezone.now()
    event = event_starting_in(timedelta(hours=5))
    early = RegistrationFactory(event=event, confirmed_at=now - timedelta(days=3))
    late = RegistrationFactory(event=event, confirmed_at=now - timedelta(hours=1))

    reminders.dispatch(now=now)

    assert list(reminder_rows().values_list("registration_id", flat=True)) == [early.pk]
    # The 2-hour reminder, later, is for both: the late one registered before it.
    reminders.dispatch(now=now + timedelta(hours=3, minutes=1))
    two_hours = reminder_rows(context__offset=TWO_HOURS, status=Status.QUEUED)
    assert sorted(two_hours.values_list("registration_id", flat=True)) == sorted(
        [early.pk, late.pk]
    )


def test_started_event_gets_no_reminder_and_the_reason_is_recorded():
    event = event_starting_in(-timedelta(minutes=10))
    registration = RegistrationFactory(event=event)

    result = reminders.dispatch(now=timezone.now())

    assert result.queued == 0
    assert (
        list(reminder_rows().values_list("status", "last_error"))
        == [(Status.SKIPPED, "The event started before this reminder was sent.")] * 2
    )
    assert set(reminder_rows().values_list("registration", flat=True)) == {
        registration.pk
    }


@pytest.mark.parametrize("what", ["event", "registration", "opted out"])
def test_cancelled_or_opted_out_gets_no_reminder(what):
    event = event_starting_in(timedelta(hours=20))
    registration = RegistrationFactory(event=event)
    if what == "event":
        Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    elif what == "registration":
        Registration.objects.filter(pk=registration.pk).update(
            status=Registration.Status.CANCELLED, cancelled_at=timezone.now()
        )
    else:
        registration.user.email_reminders = False
        registration.user.save()

    assert reminders.dispatch(now=timezone.now()).queued == 0
    assert not reminder_rows(status=Status.QUEUED).exists()


def test_after_an_outage_only_the_nearest_reminder_goes_and_the_rest_are_recorded():
    event = event_starting_in(timedelta(hours=1))
    registration = RegistrationFactory(event=event)

    result = reminders.dispatch(now=timezone.now())

    assert result.queued == 1
    (sent,) = reminder_rows(status=Status.QUEUED)
    assert (sent.registration_id, sent.context["offset"]) == (
        registration.pk,
        TWO_HOURS,
    )
    (skipped,) = reminder_rows(status=Status.SKIPPED)
    assert skipped.context["offset"] == DAY
    assert skipped.last_error.startswith("Superseded: the 2 hour(s) reminder")


def test_moving_the_event_moves_the_reminders_not_yet_sent(mailbox):
    now = timezone.now()
    event = event_starting_in(timedelta(hours=30))
    registration = RegistrationFactory(
        event=event, confirmed_at=now - timedelta(days=5)
    )
    assert reminders.dispatch(now=now).queued == 0

    sooner = now + timedelta(hours=20)
    services.update_event_details(
        event=event, starts_at=sooner, ends_at=sooner + timedelta(hours=2)
    )
    assert reminders.dispatch(now=now).queued == 1

    # Moved again before that reminder went out: it is withdrawn, and comes back at
    # the new time, once.
    later = now + timedelta(days=3)
    services.update_event_details(
        event=event, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    assert not reminder_rows().exists()
    assert reminders.dispatch(now=now).queued == 0
    assert reminders.dispatch(now=later - timedelta(hours=23)).queued == 1
    (row,) = reminder_rows(registration=registration)
    assert row.context["due_at"] == (later - timedelta(days=1)).isoformat()


def test_a_sent_reminder_is_not_sent_again_when_the_event_moves(mailbox):
    event = event_starting_in(timedelta(hours=20))
    RegistrationFactory(event=event)
    reminders.dispatch(now=timezone.now())
    assert [m.subject for m in mailbox()] == [
        f"[Turnout] Reminder: {event.title} starts in 19 hours"
    ]

    later = event.starts_at + timedelta(hours=1)
    services.update_event_details(
        event=event, starts_at=later, ends_at=later + timedelta(hours=2)
    )

    assert reminders.dispatch(now=timezone.now()).queued == 0
    assert reminder_rows().count() == 1


def test_reminder_that_became_pointless_before_delivery_is_skipped(mailbox):
    event = event_starting_in(timedelta(hours=20))
    registration = RegistrationFactory(event=event)
    reminders.dispatch(now=timezone.now())
    services.cancel_registration(registration=registration)

    sent = [m for m in mailbox() if "Reminder" in m.subject]

    assert sent == []
    (row,) = reminder_rows()
    assert (row.status, row.last_error) == (
        Status.SKIPPED,
        "The registration was cancelled before this could be sent.",
    )


def test_reminder_email_offers_release_and_one_click_unsubscribe(mailbox):
    event = event_starting_in(timedelta(hours=20))
    registration = RegistrationFactory(event=event)
    reminders.dispatch(now=timezone.now())

    (email,) = mailbox()

    assert email.subject == f"[Turnout] Reminder: {event.title} starts in 19 hours"
    assert "/release/" in email.body
    unsubscribe = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # RFC 8058: the mail client POSTs, with no cookie and no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        unsubscribe.removeprefix("http://testserver"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    registration.user.refresh_from_db()
    assert registration.user.email_reminders is False


def test_unsubscribe_link_asks_first_and_a_tampered_one_changes_nothing(client):
    from notifications import links

    def unsubscribe_url(user):
        return links.url(links.STOP_REMINDERS, user.pk)

    user = UserFactory()
    path = unsubscribe_url(user).removeprefix("http://testserver")

    assert "Stop reminders" in client.get(path).content.decode()
    assert client.post(path[:-3] + "xx/").status_code == 400
    user.refresh_from_db()
    assert user.email_reminders is True


def _two_dispatchers_at_once(event):
    barrier = threading.Barrier(2)
    errors = []

    def run():
        from django.db import connection

        try:
            barrier.wait()
            reminders.dispatch(now=timezone.now())
        except Exception as error:  # noqa: BLE001 -- reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return reminder_rows(event=event).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_the_same_moment_claim_each_reminder_once():
    event = event_starting_in(timedelta(hours=20))
    RegistrationFactory.create_batch(50, event=event)
    assert _two_dispatchers_at_once(event) == 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_without_the_unique_claim_double_up(monkeypatch):
    """Control: with keys that no longer collide, the same two runs queue reminders
    twice, so the test above would see it."""
    original = for_registration

    def unclaimed(*args, **kwargs):
        message = original(*args, **kwargs)
        message.dedupe_key += f":{threading.get_ident()}"
        return message

    monkeypatch.setattr(reminders, "for_registration", unclaimed)
    event = event_starting_in(timedelta(hours=20))
    RegistrationFactory.create_batch(50, event=event)
    assert _two_dispatchers_at_once(event) == 100


def test_reminder_queued_before_the_event_went_back_to_draft_is_not_sent(mailbox):
    event = event_starting_in(timedelta(hours=20))
    RegistrationFactory(event=event)
    assert reminders.dispatch(now=timezone.now()).queued == 1
    services.unpublish_event(event=event)

    assert mailbox() == []
    (row,) = reminder_rows()
    assert (row.status, row.last_error) == (
        Status.SKIPPED,
        "The event was no longer published when this could be sent.",
    )


def _make_it(what, registration):
    event = registration.event
    if what == "draft":
        Event.objects.filter(pk=event.pk).update(status=Event.Status.DRAFT)
    elif what == "event cancelled":
        Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    elif what == "registration cancelled":
        Registration.objects.filter(pk=registration.pk).update(
            status=Registration.Status.CANCELLED, cancelled_at=timezone.now()
        )
    else:
        registration.user.email_reminders = False
        registration.user.save()


@pytest.mark.parametrize(
    "what", ["draft", "event cancelled", "registration cancelled", "opted out"]
)
def test_scan_and_delivery_refuse_the_same_reminders(what, mailbox):
    """One rule: what the scan does not queue, delivery does not send."""
    before = RegistrationFactory(event=event_starting_in(timedelta(hours=20)))
    _make_it(what, before)
    assert reminders.dispatch(now=timezone.now()).queued == 0
    assert not reminder_rows(registration=before).exists()

    after = RegistrationFactory(event=event_starting_in(timedelta(hours=20)))
    assert reminders.dispatch(now=timezone.now()).queued == 1
    _make_it(what, after)

    assert mailbox() == []
    assert list(reminder_rows().values_list("registration", "status")) == [
        (after.pk, Status.SKIPPED)
    ]
