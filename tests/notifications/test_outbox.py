"""The outbox without a worker: what each change queues, how it renders, the links."""

import smtplib
import socket
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.messages import ACCOUNT
from events import services
from events.messages import Kind, for_registration
from events.models import Registration
from notifications import delivery, links, outbox, upkeep
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Message.Status


def kinds(**filters):
    return list(
        Message.objects.filter(**filters).order_by("pk").values_list("kind", flat=True)
    )


def method_and_sequence(email):
    (ics,) = [a for a in email.attachments if a.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(ics.get_payload(decode=True))
    (vevent,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), vevent["SEQUENCE"]


def test_rolled_back_registration_queues_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.register(event=EventFactory(), user=UserFactory())
        raise RuntimeError("the request failed after registering")
    assert callbacks == []
    assert not Message.objects.exists()


def test_each_change_queues_one_message_to_whom_it_concerns():
    event = EventFactory(capacity=1)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    held = services.register(event=event, user=first)
    services.register(event=event, user=second)
    services.register(event=event, user=third)

    services.cancel_registration(registration=held)

    assert kinds(user=first) == [Kind.CONFIRMED, Kind.CANCELLED]
    assert kinds(user=second) == [Kind.WAITLISTED, Kind.PROMOTED]
    assert kinds(user=third) == [Kind.WAITLISTED]
    assert Message.objects.get(user=third).context == {"position": 2}


def test_confirmation_renders_local_time_own_time_and_release_link(mailbox):
    user = UserFactory(timezone="Asia/Tokyo")
    event = EventFactory(timezone="America/Los_Angeles")
    services.register(event=event, user=user)

    (email,) = mailbox()

    assert email.to == [user.email]
    abbreviation = event.starts_at.astimezone(event.zone).tzname()  # PST or PDT
    assert f" {abbreviation} – " in email.body
    assert "Your time:" in email.body and "JST" in email.body
    assert "http://testserver/release/" in email.body
    html = email.alternatives[0][0]
    assert event.venue_name in html and "Release my seat" in html
    assert method_and_sequence(email) == ("REQUEST", 0)


def offset_described(vtimezone, local: datetime) -> timedelta:
    """The UTC offset a VTIMEZONE gives a local time: that of its latest onset."""
    onsets = []
    for observance in vtimezone.walk():
        if observance.name not in ("STANDARD", "DAYLIGHT"):
            continue
        assert "RRULE" not in observance  # icalendar writes RDATEs
        rdates = observance.get("RDATE", [])
        rdates = rdates if isinstance(rdates, list) else [rdates]
        starts = [observance.decoded("DTSTART")]
        starts += [period.dt for rdate in rdates for period in rdate.dts]
        offset = observance["TZOFFSETTO"].td
        onsets += [(start.replace(tzinfo=None), offset) for start in starts]
    return max(onset for onset in onsets if onset[0] <= local)[1]


@pytest.mark.parametrize(
    ("zone", "local_start"),
    [
        ("America/Los_Angeles", datetime(2099, 1, 15, 18, 30)),  # PST
        ("America/Los_Angeles", datetime(2099, 7, 15, 18, 30)),  # PDT
        ("Australia/Sydney", datetime(2099, 12, 31, 22, 0)),  # AEDT, into 2100
        ("Asia/Kolkata", datetime(2099, 3, 8, 9, 0)),  # no daylight time
    ],
)
def test_invitation_carries_a_zone_that_gives_the_right_offsets(
    mailbox, zone, local_start
):
    starts = local_start.replace(tzinfo=ZoneInfo(zone))
    event = EventFactory(
        timezone=zone, starts_at=starts, ends_at=starts + timedelta(hours=3)
    )
    services.register(event=event, user=UserFactory())

    (email,) = mailbox()
    (ics,) = [a for a in email.attachments if a.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(ics.get_payload(decode=True))
    (vtimezone,) = calendar.walk("VTIMEZONE")
    (vevent,) = calendar.walk("VEVENT")
    assert str(vtimezone["TZID"]) == zone
    # A calendar client resolves DTSTART/DTEND through this VTIMEZONE alone.
    for name in ("DTSTART", "DTEND"):
        local = vevent[name].dt.replace(tzinfo=None)
        assert vevent[name].params["TZID"] == zone
        assert offset_described(vtimezone, local) == ZoneInfo(zone).utcoffset(local)
    assert calendar.subcomponents == [vtimezone, vevent]  # the zone comes first


def test_calendar_sequence_rises_through_cancel_and_registering_again(mailbox):
    user = UserFactory()
    event = EventFactory()
    first = services.register(event=event, user=user)
    mailbox()  # each step is delivered before the next
    services.cancel_registration(registration=first)
    mailbox()
    services.register(event=event, user=user)
    mailbox()
    services.update_event_details(event=event, venue_name="Elsewhere")

    sent = mailbox()

    assert [method_and_sequence(e) for e in sent] == [
        ("REQUEST", 0),
        ("CANCEL", 1),
        ("REQUEST", 2),
        ("REQUEST", 3),
    ]


def test_waitlisted_leaving_gets_no_invitation(mailbox):
    event = EventFactory(capacity=0)
    registration = services.register(event=event, user=UserFactory())
    mailbox()
    services.cancel_registration(registration=registration)

    joined, left = mailbox()

    assert "number 1 in line" in joined.body
    assert "You have left the waitlist." in left.body
    assert joined.attachments == [] and left.attachments == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (smtplib.SMTPDataError(451, b"4.7.1 Try later"), True),
        (smtplib.SMTPDataError(550, b"5.1.1 No such user"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no")}), False),
        (smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"busy")}), True),
        (smtplib.SMTPServerDisconnected("gone"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError("timed out"), True),
    ],
)
def test_smtp_errors_are_transient_or_permanent(error, transient):
    assert delivery.classify(error).transient is transient


def test_retry_delay_grows_with_jitter_up_to_the_cap(settings):
    settings.MAIL_RETRY_BASE_SECONDS, settings.MAIL_RETRY_MAX_SECONDS = 30, 600
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (6, 600), (12, 600)]:
        delays = [delivery.retry_delay(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_sweeper_hands_over_lost_and_stuck_messages_only(settings):
    settings.MAIL_HAND_OVER_GRACE_SECONDS = 15
    settings.MAIL_STUCK_AFTER_SECONDS = 300
    now = timezone.now()
    registration = RegistrationFactory()

    def row(key, **fields):
        return Message.objects.create(
            kind=Kind.CONFIRMED,
            to_email="a@example.com",
            registration=registration,
            event=registration.event,
            dedupe_key=key,
            **fields,
        )

    never = row("never")
    just_made = row("just-made")
    stuck = row("stuck", status=Status.SENDING, sending_since=now - timedelta(hours=1))
    row("busy", status=Status.SENDING, sending_since=now - timedelta(seconds=30))
    row("sent", status=Status.SENT, sent_at=now)
    Message.objects.filter(pk=never.pk).update(created_at=now - timedelta(minutes=1))
    Message.objects.filter(pk=just_made.pk).update(created_at=now)

    assert upkeep.sweep(now=now) == [never.pk, stuck.pk]


def test_resend_queues_a_fresh_copy(mailbox):
    registration = services.register(event=EventFactory(), user=UserFactory())
    (original,) = Message.objects.all()
    mailbox()

    copy = outbox.resend(Message.objects.get(pk=original.pk))

    assert len(mailbox()) == 2
    copy.refresh_from_db()
    assert (copy.status, copy.resend_of_id, copy.registration) == (
        Status.SENT,
        original.pk,
        registration,
    )


def test_confirmation_not_yet_sent_when_the_registration_is_cancelled_is_skipped(
    mailbox,
):
    registration = services.register(event=EventFactory(), user=UserFactory())
    services.cancel_registration(registration=registration)

    (sent,) = mailbox()

    assert sent.subject.startswith("[Turnout] Registration cancelled")
    skipped = Message.objects.get(kind=Kind.CONFIRMED)
    assert (skipped.status, skipped.last_error) == (
        Status.SKIPPED,
        "The registration was cancelled before this could be sent.",
    )


def test_changing_a_cancelled_event_tells_nobody():
    event = EventFactory()
    services.register(event=event, user=UserFactory())
    services.cancel_event(event=event)

    services.update_event_details(event=event, venue_name="Somewhere else")

    assert kinds(event=event) == [Kind.CONFIRMED, Kind.EVENT_CANCELLED]


def test_account_email_bodies_are_not_kept_after_sending(client, mailbox):
    user = UserFactory()
    client.post("/accounts/login/code/", {"email": user.email})

    (sent,) = mailbox()

    assert "code" in sent.body.lower()
    row = Message.objects.get(kind=ACCOUNT)
    assert (row.status, row.body_text, row.body_html) == (Status.SENT, "", "")
    with pytest.raises(ValueError, match="not resent"):
        outbox.resend(row)


def test_a_retry_that_arrives_early_leaves_the_row_to_the_one_that_is_due(mailbox):
    services.register(event=EventFactory(), user=UserFactory())
    Message.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert mailbox() == []
    Message.objects.update(next_attempt_at=timezone.now())
    assert len(mailbox()) == 1


# The release link --------------------------------------------------------------------
def release_path(registration):
    return links.url(links.RELEASE_SEAT, registration.pk).removeprefix(
        "http://testserver"
    )


def test_release_link_asks_then_cancels_and_promotes(client):
    event = EventFactory(capacity=1)
    holder = services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())

    assert "Give up your seat?" in client.get(release_path(holder)).content.decode()
    holder.refresh_from_db()
    assert holder.status == Registration.Status.CONFIRMED  # a GET changes nothing

    response = client.post(release_path(holder))

    assert response["Location"] == event.get_absolute_url()
    holder.refresh_from_db()
    waiting.refresh_from_db()
    assert (holder.status, waiting.status) == ("cancelled", "confirmed")
    assert kinds(registration=waiting) == [Kind.WAITLISTED, Kind.PROMOTED]


@pytest.mark.parametrize("tamper", [lambda p: p[:-4] + "abc/", lambda p: "/release/x/"])
def test_tampered_release_link_is_a_clear_400_and_changes_nothing(client, tamper):
    registration = services.register(event=EventFactory(), user=UserFactory())
    response = client.post(tamper(release_path(registration)))
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_release_link_after_the_start_is_expired_and_changes_nothing(client):
    now = timezone.now()
    event = EventFactory(
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1)
    )
    registration = RegistrationFactory(event=event)

    response = client.post(release_path(registration))

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_a_message_that_keeps_dying_in_sending_is_failed_not_resent(mailbox, settings):
    registration = services.register(event=EventFactory(), user=UserFactory())
    message = Message.objects.get(registration=registration)
    long_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING,
        sending_since=long_ago,
        attempts=settings.MAIL_MAX_ATTEMPTS,
    )

    delivery.deliver([message.pk])

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.last_error.startswith("Gave up after 12 attempts")
    from django.core import mail

    assert mail.outbox == []


def test_prune_deletes_only_the_old_finished_log(settings):
    settings.MAIL_RETENTION_DAYS = 30
    now = timezone.now()
    long_ago = now - timedelta(days=60)
    past = EventFactory(starts_at=long_ago, ends_at=long_ago + timedelta(hours=3))
    recent = EventFactory(
        starts_at=now - timedelta(days=5), ends_at=now - timedelta(days=5, hours=-3)
    )
    kept, gone = [], []

    def message(event, status, **fields):
        registration = RegistrationFactory(event=event)
        row = for_registration(registration, Kind.CONFIRMED)
        row.status = status
        row.save()
        Message.objects.filter(pk=row.pk).update(**fields)
        return row.pk

    gone.append(message(past, Message.Status.SENT))
    gone.append(message(past, Message.Status.FAILED))
    gone.append(message(past, Message.Status.SKIPPED))
    kept.append(message(past, Message.Status.QUEUED))  # never deleted unsent
    kept.append(message(recent, Message.Status.SENT))  # its event is recent
    old_account = Message.objects.create(
        kind=ACCOUNT, to_email="a@example.com", status=Message.Status.SENT
    )
    Message.objects.filter(pk=old_account.pk).update(created_at=long_ago)
    new_account = Message.objects.create(
        kind=ACCOUNT, to_email="b@example.com", status=Message.Status.SENT
    )
    gone.append(old_account.pk)
    kept.append(new_account.pk)

    assert upkeep.prune(now=now) == len(gone)

    assert sorted(Message.objects.values_list("pk", flat=True)) == sorted(kept)


def test_change_notice_queued_before_the_event_went_back_to_draft_is_not_sent(
    mailbox,
):
    event = EventFactory()
    services.register(event=event, user=UserFactory())
    mailbox()
    services.update_event_details(event=event, venue_name="Somewhere else")
    services.unpublish_event(event=event)

    assert len(mailbox()) == 1  # the confirmation, sent before
    notice = Message.objects.get(kind=Kind.EVENT_CHANGED)
    assert (notice.status, notice.last_error) == (
        Status.SKIPPED,
        "The event was no longer published when this could be sent.",
    )


# Handing over to Celery with the broker down -------------------------------------------
@contextmanager
def broken_broker():
    """A broker that fails every connection for real: it listens on the port the test
    settings publish to, accepts each connection and closes it at once. Yields the
    list of the connections it took, as they come."""
    server = socket.create_server(("127.0.0.1", settings.TEST_BROKER_PORT))
    server.settimeout(0.05)
    taken, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _address = server.accept()
            except TimeoutError:
                continue
            taken.append(connection.getpeername())  # before the client sees it fail
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_with_the_broker_down_only_the_first_registration_tries_it(
    django_capture_on_commit_callbacks,
):
    """After one failed hand-over the next ones skip the broker (for
    MAIL_HAND_OVER_PAUSE_SECONDS): the second request makes no connection at all,
    and both rows wait, queued, for the sweeper."""
    event = EventFactory(capacity=5)
    with broken_broker() as connections:
        with django_capture_on_commit_callbacks(execute=True):
            first = services.register(event=event, user=UserFactory())
        tried = len(connections)
        with django_capture_on_commit_callbacks(execute=True):
            second = services.register(event=event, user=UserFactory())
        after_second = len(connections)

    assert tried > 0
    assert after_second == tried
    rows = Message.objects.filter(registration__in=[first, second])
    assert (
        list(rows.values_list("status", "enqueued_at")) == [(Status.QUEUED, None)] * 2
    )


def test_the_sweeper_tries_the_broker_even_while_hand_overs_pause(
    django_capture_on_commit_callbacks,
):
    with broken_broker() as connections:
        with django_capture_on_commit_callbacks(execute=True):
            registration = services.register(event=EventFactory(), user=UserFactory())
        tried = len(connections)
        swept = upkeep.sweep(now=timezone.now() + timedelta(minutes=5))
        after_sweep = len(connections)

    assert tried > 0
    assert swept == [Message.objects.get(registration=registration).pk]
    assert after_sweep > tried
