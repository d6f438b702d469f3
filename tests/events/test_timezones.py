"""Reminder times follow the venue's clock; pages and emails show both clocks.

Whole days are nominal days on the venue's calendar (RFC 5545): "1 day before" a
10:00 event is 10:00 the day before, local time, whatever daylight saving did in
between. The rest of an offset is real time: "2 hours before" is 120 minutes.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events import reminders, services
from events.messages import Kind
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Message.Status
DAY, TWO_HOURS = 24 * 60, 2 * 60
LONDON = ZoneInfo("Europe/London")


def event_at(zone: str, local: datetime, **fields):
    """A published event starting at the venue's local wall-clock time."""
    starts = local.replace(tzinfo=ZoneInfo(zone))
    return EventFactory(
        timezone=zone, starts_at=starts, ends_at=starts + timedelta(hours=3), **fields
    )


# Each case: the venue's zone and local start, the offset, and when it falls due.
DUE_TIMES = [
    pytest.param(
        "Europe/London",
        datetime(2027, 3, 28, 10, 0),  # BST (+01:00) since 01:00 UTC that morning
        DAY,
        datetime(2027, 3, 27, 10, 0, tzinfo=UTC),  # 10:00 GMT, not 09:00 UTC
        id="london-spring-forward-1-day",
    ),
    pytest.param(
        "Europe/London",
        datetime(2027, 3, 28, 10, 0),
        TWO_HOURS,
        datetime(2027, 3, 28, 7, 0, tzinfo=UTC),  # 08:00 BST
        id="london-spring-forward-2-hours",
    ),
    pytest.param(
        "Europe/London",
        datetime(2027, 3, 28, 2, 30),  # 01:30 UTC; the clock skipped 01:00-02:00
        TWO_HOURS,
        datetime(2027, 3, 27, 23, 30, tzinfo=UTC),  # 23:30 GMT: 2 real hours
        id="london-2-hours-across-the-change",
    ),
    pytest.param(
        "Europe/London",
        datetime(2027, 10, 31, 10, 0),  # GMT again since 01:00 UTC that morning
        DAY,
        datetime(2027, 10, 30, 9, 0, tzinfo=UTC),  # 10:00 BST, not 10:00 UTC
        id="london-fall-back-1-day",
    ),
    pytest.param(
        "America/Los_Angeles",
        datetime(2027, 3, 14, 18, 0),  # PDT (-07:00): 2027-03-15 01:00 UTC
        DAY,
        datetime(2027, 3, 14, 2, 0, tzinfo=UTC),  # 18:00 PST, not 01:00 UTC
        id="san-francisco-spring-forward-1-day",
    ),
    pytest.param(
        "America/Los_Angeles",
        datetime(2027, 3, 14, 18, 0),
        TWO_HOURS,
        datetime(2027, 3, 14, 23, 0, tzinfo=UTC),  # 16:00 PDT
        id="san-francisco-spring-forward-2-hours",
    ),
    pytest.param(
        "America/Los_Angeles",
        datetime(2027, 11, 7, 18, 0),  # PST (-08:00): 2027-11-08 02:00 UTC
        DAY,
        datetime(2027, 11, 7, 1, 0, tzinfo=UTC),  # 18:00 PDT, not 02:00 UTC
        id="san-francisco-fall-back-1-day",
    ),
    pytest.param(
        "America/Los_Angeles",
        datetime(2027, 11, 7, 18, 0),
        TWO_HOURS,
        datetime(2027, 11, 8, 0, 0, tzinfo=UTC),  # 16:00 PST
        id="san-francisco-fall-back-2-hours",
    ),
    pytest.param(
        "Asia/Tokyo",
        datetime(2027, 3, 28, 19, 0),  # JST (+09:00), all year: 10:00 UTC
        DAY,
        datetime(2027, 3, 27, 10, 0, tzinfo=UTC),
        id="tokyo-1-day",
    ),
    pytest.param(
        "Asia/Tokyo",
        datetime(2027, 3, 28, 19, 0),
        TWO_HOURS,
        datetime(2027, 3, 28, 8, 0, tzinfo=UTC),
        id="tokyo-2-hours",
    ),
    pytest.param(
        "Asia/Kolkata",
        datetime(2027, 3, 28, 19, 0),  # IST (+05:30): 13:30 UTC
        DAY,
        datetime(2027, 3, 27, 13, 30, tzinfo=UTC),
        id="bangalore-1-day",
    ),
    pytest.param(
        "Asia/Kolkata",
        datetime(2027, 3, 28, 19, 0),
        TWO_HOURS,
        datetime(2027, 3, 28, 11, 30, tzinfo=UTC),
        id="bangalore-2-hours",
    ),
]


@pytest.mark.parametrize(("zone", "local_start", "minutes", "expected"), DUE_TIMES)
def test_due_at_counts_days_on_the_venue_calendar(zone, local_start, minutes, expected):
    event = event_at(zone, local_start)

    assert reminders.due_at(event, minutes) == expected


@pytest.mark.parametrize(("zone", "local_start", "minutes", "expected"), DUE_TIMES)
def test_dispatch_queues_the_reminder_at_its_due_time_and_not_a_minute_before(
    zone, local_start, minutes, expected
):
    event = event_at(zone, local_start, reminder_offsets=[minutes])
    registration = RegistrationFactory(
        event=event, confirmed_at=datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
    )

    early = reminders.dispatch(now=expected - timedelta(minutes=1))
    assert (early.queued, early.skipped) == (0, {})
    assert not Message.objects.filter(kind=Kind.REMINDER).exists()

    on_time = reminders.dispatch(now=expected)

    assert (on_time.queued, on_time.skipped) == (1, {})
    (row,) = Message.objects.filter(kind=Kind.REMINDER)
    assert (row.registration_id, row.status) == (registration.pk, Status.QUEUED)
    assert row.context == {"offset": minutes, "due_at": expected.isoformat()}


def test_dispatch_a_day_early_by_the_clock_change_queues_nothing():
    """The London event of 2027-03-28 10:00 BST: 24 real hours before it is 09:00
    UTC on the 27th, an hour before the nominal day is up."""
    event = event_at("Europe/London", datetime(2027, 3, 28, 10, 0))
    RegistrationFactory(event=event)

    result = reminders.dispatch(now=datetime(2027, 3, 27, 9, 0, tzinfo=UTC))

    assert (result.queued, result.skipped) == (0, {})
    assert not Message.objects.exists()


def test_event_page_shows_venue_time_and_the_viewers_own(client):
    viewer = UserFactory(timezone="Asia/Kolkata")
    client.force_login(viewer)
    event = event_at("Europe/London", datetime(2027, 3, 28, 10, 0))

    content = client.get(event.get_absolute_url()).content.decode()

    assert (
        '<span class="d-block" data-testid="local-start">'
        '<time datetime="2027-03-28T10:00:00+01:00">'
        "Sun, March 28, 2027, 10 a.m. BST</time></span>"
    ) in content
    assert (
        '<span class="d-block small mt-1" data-testid="viewer-start">Your time: '
        '<time datetime="2027-03-28T14:30:00+05:30">'
        "Sun, March 28, 2027, 2:30 p.m. IST</time></span>"
    ) in content


def test_event_page_viewer_west_of_the_venue_sees_the_previous_day(client):
    viewer = UserFactory(timezone="America/Los_Angeles")
    client.force_login(viewer)
    event = event_at("Asia/Tokyo", datetime(2027, 3, 28, 9, 0))

    content = client.get(event.get_absolute_url()).content.decode()

    assert (
        '<time datetime="2027-03-28T09:00:00+09:00">Sun, March 28, 2027, 9 a.m. JST</time>'
        in content
    )
    assert (
        'Your time: <time datetime="2027-03-27T17:00:00-07:00">'
        "Sat, March 27, 2027, 5 p.m. PDT</time>"
    ) in content


def test_confirmation_email_shows_venue_time_and_the_recipients_own(mailbox):
    attendee = UserFactory(timezone="Asia/Kolkata")
    event = event_at("Europe/London", datetime(2027, 3, 28, 10, 0))
    services.register(event=event, user=attendee)

    (email,) = mailbox()

    lines = email.body.splitlines()
    assert "When: Sun, March 28, 2027, 10 a.m. BST – 1 p.m. BST" in lines
    assert "Your time: Sun, March 28, 2027, 2:30 p.m. IST" in lines
    html = email.alternatives[0][0]
    assert "Your time: Sun, March 28, 2027, 2:30 p.m. IST</p>" in html
