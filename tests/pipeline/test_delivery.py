"""Delivery through the real pipeline: Redis, a Celery worker, SMTP on loopback.

Every test ends with what the SMTP server actually received.
"""

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from config.site import absolute
from events import calendar as ics
from events import services
from events.models import Registration
from notifications import outbox
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.pipeline.conftest import wait_until

pytestmark = pytest.mark.postgres

Status = Message.Status


def calendar_of(email_message) -> icalendar.Calendar:
    (part,) = [
        p for p in email_message.walk() if p.get_content_type() == "text/calendar"
    ]
    return icalendar.Calendar.from_ical(part.get_content())


def vevent_of(email_message):
    (vevent,) = calendar_of(email_message).walk("VEVENT")
    return vevent


def wait_for_status(message_filter, status, *, timeout=30):
    return wait_until(
        lambda: Message.objects.filter(**message_filter, status=status).first(),
        timeout=timeout,
        what=f"a message {message_filter} to be {status}",
    )


def test_registration_delivers_one_confirmation_with_its_invitation(mail_pipeline):
    user = UserFactory(timezone="Europe/Berlin")
    venue_zone = ZoneInfo("America/Los_Angeles")
    # A fixed local time with minutes, so the wording checked below does not
    # depend on when the suite runs (Django writes 10:00 p.m. as "10 p.m.").
    day = (timezone.now() + timedelta(days=10)).astimezone(venue_zone)
    starts = day.replace(hour=18, minute=30, second=0, microsecond=0)
    event = EventFactory(
        timezone="America/Los_Angeles",
        capacity=5,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
    )

    registration = services.register(event=event, user=user)

    message = wait_for_status({"registration": registration}, Status.SENT)
    (received,) = mail_pipeline.sink.messages_to(user.email)
    assert received["Subject"] == f"[Turnout] You're registered: {event.title}"
    assert received["X-Turnout-Message"] == str(message.pk)
    calendar = calendar_of(received)
    assert str(calendar["METHOD"]) == "REQUEST"
    vevent = vevent_of(received)
    assert str(vevent["UID"]) == ics.invitation_uid(event, user)
    assert vevent["SEQUENCE"] == 0
    start = vevent.decoded("DTSTART")
    assert start == event.starts_at.replace(microsecond=0)  # iCalendar has seconds
    assert start.tzinfo.key == "America/Los_Angeles"
    assert vevent.decoded("DTEND") == event.ends_at.replace(microsecond=0)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Los_Angeles"]
    # The text shows the venue's time with its abbreviation, and the reader's own.
    text = received.get_body(("plain",)).get_content()
    assert "6:30 p.m." in text
    assert starts.tzname() in text  # PST or PDT
    assert "Your time:" in text
    assert "/release/" in text
    # A second look a moment later: still exactly one.
    time.sleep(1)
    assert len(mail_pipeline.sink.messages_to(user.email)) == 1


def test_rescheduling_delivers_a_request_with_a_higher_sequence(mail_pipeline):
    user = UserFactory()
    event = EventFactory()
    registration = services.register(event=event, user=user)
    wait_for_status({"registration": registration, "kind": "confirmed"}, Status.SENT)

    later = event.starts_at + timedelta(days=1, hours=2)
    services.update_event_details(
        event=event, starts_at=later, ends_at=later + timedelta(hours=3)
    )

    wait_for_status(
        {"registration": registration, "kind": "event_changed"}, Status.SENT
    )
    first, second = mail_pipeline.sink.messages_to(user.email)
    assert str(calendar_of(second)["METHOD"]) == "REQUEST"
    assert vevent_of(second)["SEQUENCE"] == vevent_of(first)["SEQUENCE"] + 1
    assert vevent_of(second)["UID"] == vevent_of(first)["UID"]
    assert vevent_of(second).decoded("DTSTART") == later.replace(microsecond=0)


def test_cancelling_the_event_delivers_a_cancel(mail_pipeline):
    user = UserFactory()
    waiting = UserFactory()
    event = EventFactory(capacity=1)
    registration = services.register(event=event, user=user)
    services.register(event=event, user=waiting)
    wait_for_status({"registration": registration, "kind": "confirmed"}, Status.SENT)

    services.cancel_event(event=event)

    wait_for_status(
        {"registration": registration, "kind": "event_cancelled"}, Status.SENT
    )
    wait_for_status({"user": waiting, "kind": "event_cancelled"}, Status.SENT)
    confirmation, cancellation = mail_pipeline.sink.messages_to(user.email)
    assert str(calendar_of(cancellation)["METHOD"]) == "CANCEL"
    assert vevent_of(cancellation)["UID"] == vevent_of(confirmation)["UID"]
    assert vevent_of(cancellation)["SEQUENCE"] > vevent_of(confirmation)["SEQUENCE"]
    assert str(vevent_of(cancellation)["STATUS"]) == "CANCELLED"
    # The waitlisted person never had it in a calendar: told, with no invitation.
    joined, told = mail_pipeline.sink.messages_to(waiting.email)
    assert told["Subject"] == f"[Turnout] Cancelled: {event.title}"
    assert not [p for p in told.walk() if p.get_content_type() == "text/calendar"]


def test_release_link_cancels_promotes_and_tells_the_next_person(mail_pipeline):
    holder, next_in_line = UserFactory(), UserFactory()
    event = EventFactory(capacity=1)
    registration = services.register(event=event, user=holder)
    services.register(event=event, user=next_in_line)
    wait_for_status({"registration": registration}, Status.SENT)
    (confirmation,) = mail_pipeline.sink.messages_to(holder.email)
    text = confirmation.get_body(("plain",)).get_content()
    path = next(
        line.removeprefix(absolute(""))
        for line in text.splitlines()
        if "/release/" in line
    )

    response = Client().post(path)

    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    wait_for_status({"user": next_in_line, "kind": "promoted"}, Status.SENT)
    joined, promoted = mail_pipeline.sink.messages_to(next_in_line.email)
    assert (
        promoted["Subject"] == f"[Turnout] You're in! A seat opened up: {event.title}"
    )
    assert str(calendar_of(promoted)["METHOD"]) == "REQUEST"
    released = mail_pipeline.sink.messages_to(holder.email)[-1]
    assert str(calendar_of(released)["METHOD"]) == "CANCEL"


# Faults ------------------------------------------------------------------------------
def test_smtp_server_down_then_up_delivers_once(mail_pipeline):
    user = UserFactory()
    mail_pipeline.sink.stop()
    registration = services.register(event=EventFactory(), user=user)

    failed_once = wait_until(
        lambda: Message.objects.filter(
            registration=registration, attempts__gte=1, status=Status.QUEUED
        ).first(),
        what="a failed first attempt",
    )
    assert "Connection refused" in failed_once.last_error
    mail_pipeline.sink.start()

    message = wait_for_status({"registration": registration}, Status.SENT)
    assert message.attempts >= 2
    assert len(mail_pipeline.sink.messages_to(user.email)) == 1


def test_smtp_4xx_then_accepted_delivers_after_a_retry(mail_pipeline):
    user = UserFactory()
    mail_pipeline.sink.handler.answers = ["451 4.7.1 Greylisted, try again later"]

    registration = services.register(event=EventFactory(), user=user)

    message = wait_for_status({"registration": registration}, Status.SENT)
    assert message.attempts == 2
    assert message.last_error == ""
    assert len(mail_pipeline.sink.messages_to(user.email)) == 1


def test_smtp_5xx_fails_without_retrying_and_shows_in_the_admin(mail_pipeline):
    user = UserFactory()
    mail_pipeline.sink.handler.answers = ["550 5.1.1 Mailbox does not exist"]

    registration = services.register(event=EventFactory(), user=user)

    message = wait_for_status({"registration": registration}, Status.FAILED)
    assert message.last_error == "550 5.1.1 Mailbox does not exist"
    # Longer than every retry delay the worker uses: still one attempt, nothing sent.
    time.sleep(3)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 1)
    assert mail_pipeline.sink.messages_to(user.email) == []
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = staff.get(
        "/admin/notifications/message/?status__exact=failed"
    ).content.decode()
    assert user.email in page
    assert "5.1.1 Mailbox does not exist" in page


def test_worker_killed_mid_send_still_ends_sent(mail_pipeline, capsys):
    user = UserFactory()
    mail_pipeline.sink.handler.hold_seconds = 10
    (worker,) = [w for w in mail_pipeline.workers if w.popen.poll() is None]

    registration = services.register(event=EventFactory(), user=user)
    assert mail_pipeline.sink.handler.holding.wait(timeout=30), "the send never began"
    worker.kill()  # SIGKILL to the whole worker, in the middle of the SMTP DATA
    assert Message.objects.get(registration=registration).status == Status.SENDING

    mail_pipeline.start_worker()
    mail_pipeline.start_beat()  # its sweeper rescues the row once it is stuck
    message = wait_for_status({"registration": registration}, Status.SENT)

    received = len(mail_pipeline.sink.messages_to(user.email))
    with capsys.disabled():
        print(
            f"\n[worker killed mid-send] attempts={message.attempts} "
            f"received={received} duplicates={received - 1}"
        )
    assert received in (1, 2)
    assert message.attempts == 2


def test_redis_down_at_registration_delivers_once_it_is_back(mail_pipeline):
    user = UserFactory()
    event = EventFactory()
    client = Client()
    client.force_login(user)
    mail_pipeline.redis.stop()

    response = client.post(f"/events/{event.slug}/register/")

    assert response.status_code == 302
    registration = Registration.objects.get(event=event, user=user)
    assert registration.status == Registration.Status.CONFIRMED
    message = Message.objects.get(registration=registration)
    assert (message.status, message.enqueued_at) == (Status.QUEUED, None)

    mail_pipeline.redis.start(ready_text="Ready to accept connections")
    mail_pipeline.start_beat()
    wait_for_status({"registration": registration}, Status.SENT, timeout=60)
    assert len(mail_pipeline.sink.messages_to(user.email)) == 1


def test_a_second_task_for_a_sent_message_sends_nothing(mail_pipeline):
    user = UserFactory()
    registration = services.register(event=EventFactory(), user=user)
    message = wait_for_status({"registration": registration}, Status.SENT)

    outbox.hand_over([message.pk])
    outbox.hand_over([message.pk, message.pk])
    time.sleep(2)  # the worker runs both tasks in well under a second

    assert len(mail_pipeline.sink.messages_to(user.email)) == 1
    assert Message.objects.get(pk=message.pk).attempts == 1


def test_worker_renders_each_email_in_its_recipients_language(mail_pipeline):
    """The Celery worker, not a request, renders the email: in the recipient's
    saved language, with the event's title in that language where staff wrote one,
    and dates in that language's format."""
    french = UserFactory(language="fr", timezone="Europe/Paris")
    japanese = UserFactory(language="ja")
    event = EventFactory(
        title="Night in Tokyo",
        starts_at=datetime(2099, 3, 6, 9, 0, tzinfo=UTC),
        ends_at=datetime(2099, 3, 6, 12, 0, tzinfo=UTC),
        timezone="Asia/Tokyo",
        capacity=5,
    )
    event.set_current_language("ja")
    event.title = "東京の夜"
    event.save()

    for user in (french, japanese):
        registration = services.register(event=event, user=user)
        wait_for_status({"registration": registration}, Status.SENT)

    (to_french,) = mail_pipeline.sink.messages_to(french.email)
    # (Non-ASCII subjects are encoded words; unfolding leaves a leading space.)
    assert (
        to_french["Subject"].strip()
        == "[Turnout] Inscription confirmée\xa0: Night in Tokyo"
    )
    text = to_french.get_body(("plain",)).get_content()
    assert "Votre place est confirmée. À bientôt\xa0!" in text
    assert "ven, 6 mars 2099, 18:00 JST" in text  # French date and 24-hour time
    assert "Votre heure\xa0: ven, 6 mars 2099, 10:00 CET" in text
    (to_japanese,) = mail_pipeline.sink.messages_to(japanese.email)
    assert (
        to_japanese["Subject"].strip() == "[Turnout] 参加登録が完了しました：東京の夜"
    )
    assert "参加が確定しました。" in to_japanese.get_body(("plain",)).get_content()
