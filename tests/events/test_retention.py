"""The retention purge: attendees' personal data goes a set time after their event
ended; the counts stay."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.messages import ACCOUNT
from events import exports, retention, tasks
from events.messages import Kind, for_registration
from events.models import Event, Registration
from events.selectors import with_admin_counts
from notifications import delivery
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Message.Status
NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _thirty_days(settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30


def ended(days_ago: float, **fields) -> Event:
    """An event that ended days_ago before NOW."""
    ends = NOW - timedelta(days=days_ago)
    return EventFactory(starts_at=ends - timedelta(hours=3), ends_at=ends, **fields)


def message(registration, status=Status.SENT, **fields) -> Message:
    row = for_registration(registration, Kind.CONFIRMED)
    row.status = status
    row.subject = "[Turnout] You're in: Tour stop"
    row.body_text = (
        f"Hi {registration.user.name}, your ticket {registration.ticket_code}"
    )
    row.save()
    Message.objects.filter(pk=row.pk).update(**fields)
    row.refresh_from_db()
    return row


def counts(event: Event) -> tuple[int, int, int]:
    counted = with_admin_counts(Event.objects.filter(pk=event.pk)).get()
    return (counted.confirmed_count, counted.waitlisted_count, counted.checked_in_count)


def test_purge_detaches_registrations_of_events_ended_before_the_cutoff():
    old, recent = ended(31), ended(29)
    gone = RegistrationFactory(event=old, checked_in_at=old.starts_at)
    waiting = RegistrationFactory(
        event=old, status="waitlisted", confirmed_at=None, waitlisted_at=old.starts_at
    )
    kept = RegistrationFactory(event=recent)
    old_code = gone.ticket_code
    before = counts(old)

    purged = retention.purge(now=NOW)

    assert purged == retention.Purged(registrations=2, messages=0)
    gone.refresh_from_db()
    waiting.refresh_from_db()
    kept.refresh_from_db()
    assert (gone.user, waiting.user) == (None, None)
    assert kept.user is not None
    assert gone.ticket_code != old_code
    assert (gone.status, gone.checked_in_at) == ("confirmed", old.starts_at)
    assert counts(old) == before == (1, 1, 1)


def test_purge_erases_the_mail_of_old_events_and_old_account_emails():
    old, recent = ended(31), ended(29)
    sent = message(RegistrationFactory(event=old), last_error="")
    failed = message(
        RegistrationFactory(event=old),
        status=Status.FAILED,
        last_error="550 5.1.1 <someone@example.com>: no such user",
    )
    stuck = message(RegistrationFactory(event=old), status=Status.QUEUED)
    recent_sent = message(RegistrationFactory(event=recent))
    old_account = Message.objects.create(
        kind=ACCOUNT, to_email="a@example.com", status=Status.SENT
    )
    Message.objects.filter(pk=old_account.pk).update(
        created_at=NOW - timedelta(days=31)
    )
    new_account = Message.objects.create(
        kind=ACCOUNT, to_email="b@example.com", status=Status.SENT
    )
    Message.objects.filter(pk=new_account.pk).update(
        created_at=NOW - timedelta(days=29)
    )

    purged = retention.purge(now=NOW)

    assert purged.messages == 4
    for row in (sent, failed, stuck, old_account):
        row.refresh_from_db()
        assert (row.user, row.to_email, row.body_text, row.context, row.dedupe_key) == (
            None,
            "",
            "",
            {},
            None,
        )
    assert sent.subject == "[Turnout] You're in: Tour stop"
    assert (sent.status, failed.status, failed.last_error) == (
        Status.SENT,
        Status.FAILED,
        "",
    )
    assert (stuck.status, stuck.last_error) == (
        Status.SKIPPED,
        delivery.ERASED_RECIPIENT,
    )
    for row in (recent_sent, new_account):
        row.refresh_from_db()
        assert row.to_email != ""
    assert recent_sent.user is not None


def test_purge_leaves_a_message_being_sent_for_the_next_run():
    sending = message(RegistrationFactory(event=ended(31)), status=Status.SENDING)

    retention.purge(now=NOW)

    sending.refresh_from_db()
    assert sending.to_email != ""


def test_purge_is_idempotent():
    registration = RegistrationFactory(event=ended(40))
    message(registration)

    first = retention.purge(now=NOW)
    second = retention.purge(now=NOW)

    assert first == retention.Purged(registrations=1, messages=1)
    assert second == retention.Purged(registrations=0, messages=0)


def test_purge_goes_by_the_now_it_is_given():
    registration = RegistrationFactory(event=ended(31))

    assert retention.purge(now=NOW - timedelta(days=2)).registrations == 0
    registration.refresh_from_db()
    assert registration.user is not None
    assert retention.purge(now=NOW).registrations == 1


def test_purge_keeps_the_rows_exports_count():
    event = ended(31, title="Last year's stop")
    RegistrationFactory(event=event)

    retention.purge(now=NOW)

    rows = list(exports.rows(exports.attendee_registrations(Event.objects.all())))
    assert [(row[0], row[2], row[3], row[4]) for row in rows] == [
        ("Last year's stop", "", "", "Confirmed")
    ]


def test_purge_renames_the_admin_history_of_the_registrations():
    staff = UserFactory(is_staff=True)
    registration = RegistrationFactory(
        event=ended(31, title="Old stop"), user=UserFactory(name="Ada Lovelace")
    )
    LogEntry.objects.log_actions(staff.pk, [registration], 2, change_message="Seen.")

    retention.purge(now=NOW)

    entry = LogEntry.objects.get(content_type__model="registration")
    assert entry.object_repr == "anonymous → Old stop (Confirmed)"


def test_purge_renames_the_admin_history_of_the_messages():
    staff = UserFactory(is_staff=True)
    sent = message(RegistrationFactory(event=ended(31)))
    LogEntry.objects.log_actions(staff.pk, [sent], 2, change_message="Resent.")
    entry = LogEntry.objects.get(content_type__model="message")
    assert sent.to_email in entry.object_repr

    retention.purge(now=NOW)

    entry.refresh_from_db()
    assert entry.object_repr == "Registration confirmed → "


def test_purge_deletes_expired_sessions():
    for expires in (NOW - timedelta(seconds=1), NOW + timedelta(days=1)):
        client = Client()
        client.force_login(UserFactory())
        Session.objects.filter(pk=client.session.session_key).update(
            expire_date=expires
        )

    retention.purge(now=NOW)

    assert list(Session.objects.values_list("expire_date", flat=True)) == [
        NOW + timedelta(days=1)
    ]


def test_purge_task_runs_daily_under_its_name():
    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-personal-data"]
    assert (entry["task"], entry["schedule"]) == (
        "events.purge_personal_data",
        24 * 60 * 60.0,
    )
    assert tasks.purge_personal_data.name == "events.purge_personal_data"


def test_purge_task_purges_what_is_due():
    # The task reads the clock; the rest of this file gives purge() its now.
    ends = timezone.now() - timedelta(days=31)
    registration = RegistrationFactory(
        event=EventFactory(starts_at=ends - timedelta(hours=3), ends_at=ends)
    )

    result = tasks.purge_personal_data.apply().get()

    assert result == {"registrations": 1, "messages": 0}
    registration.refresh_from_db()
    assert registration.user is None


def test_anonymised_registration_reads_as_anonymous():
    registration = Registration(
        event=Event(title="Tour stop"), user=None, status="cancelled"
    )
    assert str(registration) == "anonymous → Tour stop (Cancelled)"


def test_purge_renames_each_registrations_history_and_leaves_the_others():
    staff = UserFactory(is_staff=True)
    first = RegistrationFactory(event=ended(31, title="First stop"))
    second = RegistrationFactory(event=ended(40, title="Second stop"))
    recent = RegistrationFactory(event=ended(1, title="Recent stop"))
    LogEntry.objects.log_actions(
        staff.pk, [first, second, recent], 2, change_message="Seen."
    )
    recent_name = str(recent)

    retention.purge(now=NOW)

    names = dict(
        LogEntry.objects.filter(content_type__model="registration").values_list(
            "object_id", "object_repr"
        )
    )
    assert names == {
        str(first.pk): "anonymous → First stop (Confirmed)",
        str(second.pk): "anonymous → Second stop (Confirmed)",
        str(recent.pk): recent_name,
    }
