"""When the door is open: rules.checkin_refusal, and everything that asks it (the
check_in service, the door's page and scan, the admin's action, the volunteer's list
of doors). Every time here is fixed or passed in, never read from the clock."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checkin import exceptions as checkin_exceptions
from checkin import services as checkin_services
from checkin.rules import checkin_refusal
from events import selectors
from events.models import Event
from events.templatetags.turnout import zoned
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.support.door import JSON, make_volunteer

pytestmark = pytest.mark.django_db

# 20:00-23:00 in Berlin (CEST, UTC+2): the door opens at 17:00 and closes at 02:00.
START = datetime(2030, 6, 1, 18, 0, tzinfo=UTC)
END = START + timedelta(hours=3)


@pytest.fixture
def event():
    return EventFactory(
        starts_at=START, ends_at=END, timezone="Europe/Berlin", title="Tour stop Berlin"
    )


@pytest.fixture
def ticket(event):
    """A confirmed registration (made directly: registration closed long ago by
    the time some of these tests check in)."""
    return RegistrationFactory(event=event, user=UserFactory(name="Ada Lovelace"))


def refusal_at(event, now):
    refusal = checkin_refusal(event, now=now)
    return None if refusal is None else (type(refusal), refusal.code, refusal.message)


# The rule -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "now",
    [
        START - timedelta(hours=3),
        START - timedelta(hours=2),
        START,
        END,
        END + timedelta(hours=2),
        END + timedelta(hours=3) - timedelta(seconds=1),
    ],
    ids=[
        "3h-before-opens",
        "2h-before",
        "at-the-start",
        "at-the-end",
        "2h-after-the-end",
        "last-second",
    ],
)
def test_checkin_refusal_none_while_the_door_is_open(event, now):
    assert refusal_at(event, now) is None


def test_checkin_refusal_4_hours_before_says_when_the_door_opens(event):
    assert refusal_at(event, START - timedelta(hours=4)) == (
        checkin_exceptions.DoorNotOpenYet,
        "door_not_open_yet",
        "The door opens at Sat, June 1, 2030, 5 p.m. CEST.",
    )


@pytest.mark.parametrize(
    "now",
    [END + timedelta(hours=3), END + timedelta(weeks=3)],
    ids=["as-it-closes", "3-weeks-after"],
)
def test_checkin_refusal_after_the_door_closed(event, now):
    assert refusal_at(event, now) == (
        checkin_exceptions.DoorClosed,
        "door_closed",
        "The door closed at Sun, June 2, 2030, 2 a.m. CEST: check-in has ended.",
    )


def test_checkin_refusal_draft_event_never_opens(event):
    event.status = Event.Status.DRAFT

    assert refusal_at(event, START) == (
        checkin_exceptions.EventNotPublishedForCheckIn,
        "not_published",
        "This event is not published: nobody can be checked in.",
    )


def test_checkin_refusal_cancelled_event_never_opens(event):
    event.status = Event.Status.CANCELLED

    assert refusal_at(event, START) == (
        checkin_exceptions.EventNotOpenForCheckIn,
        "event_closed",
        "This event is cancelled: nobody can be checked in.",
    )


def test_checkin_refusal_hours_come_from_the_settings(event, settings):
    settings.CHECKIN_OPENS_HOURS_BEFORE = 1
    settings.CHECKIN_CLOSES_HOURS_AFTER = 0.5

    assert refusal_at(event, START - timedelta(hours=1)) is None
    assert (
        refusal_at(event, START - timedelta(hours=2))[0]
        is checkin_exceptions.DoorNotOpenYet
    )
    assert refusal_at(event, END + timedelta(minutes=29)) is None
    assert (
        refusal_at(event, END + timedelta(minutes=30))[0]
        is checkin_exceptions.DoorClosed
    )


# The service --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("now", "refused"),
    [
        (START - timedelta(hours=4), checkin_exceptions.DoorNotOpenYet),
        (END + timedelta(weeks=3), checkin_exceptions.DoorClosed),
    ],
    ids=["4h-before", "3-weeks-after"],
)
def test_check_in_outside_the_window_is_refused_and_changes_nothing(
    event, ticket, now, refused
):
    with pytest.raises(refused):
        checkin_services.check_in(
            event=event, code=ticket.ticket_code, by=None, now=now
        )

    ticket.refresh_from_db()
    assert (ticket.checked_in_at, ticket.checked_in_by) == (None, None)


@pytest.mark.parametrize(
    "status", [Event.Status.DRAFT, Event.Status.CANCELLED], ids=["draft", "cancelled"]
)
def test_check_in_at_a_draft_or_cancelled_event_is_refused(event, ticket, status):
    Event.objects.filter(pk=event.pk).update(status=status)
    event.refresh_from_db()

    with pytest.raises(checkin_exceptions.CheckInRefused):
        checkin_services.check_in(
            event=event, code=ticket.ticket_code, by=None, now=START
        )

    ticket.refresh_from_db()
    assert ticket.checked_in_at is None


@pytest.mark.parametrize(
    "now",
    [START - timedelta(hours=2), END + timedelta(hours=2)],
    ids=["2h-before", "2h-after-the-end"],
)
def test_check_in_inside_the_window_records_that_time(event, ticket, now):
    volunteer = make_volunteer()

    result = checkin_services.check_in(
        event=event, code=ticket.ticket_code, by=volunteer, now=now
    )

    assert result.first is True
    ticket.refresh_from_db()
    assert (ticket.checked_in_at, ticket.checked_in_by) == (now, volunteer)


def test_check_in_at_a_shut_door_says_so_before_looking_at_the_code(event):
    with pytest.raises(checkin_exceptions.DoorClosed):
        checkin_services.check_in(
            event=event, code="not a ticket", by=None, now=END + timedelta(weeks=3)
        )


# The door's page and scan (the real clock: events placed around it) -----------------
def event_around_now(*, starts: timedelta) -> Event:
    """A published event starting at now + starts, three hours long."""
    starts_at = timezone.now() + starts
    return EventFactory(starts_at=starts_at, ends_at=starts_at + timedelta(hours=3))


@pytest.fixture
def door(client):
    client.force_login(make_volunteer(name="Vera Volunteer"))
    return client


def door_message(html: str) -> str:
    found = re.search(r'data-testid="door-closed" data-door="[^"]+">(.*?)</div>', html)
    return found.group(1) if found else ""


def test_door_page_before_the_window_says_when_it_opens_instead_of_the_form(door):
    event = event_around_now(starts=timedelta(days=7))
    opens = zoned(event.starts_at - timedelta(hours=3), event.timezone, plain=True)

    html = door.get(reverse("checkin:door", args=[event.slug])).content.decode()

    assert door_message(html) == f"The door opens at {opens}."
    assert 'id="checkin-form"' not in html


def test_door_page_after_the_window_says_it_is_closed(door):
    event = event_around_now(starts=-timedelta(weeks=3))

    html = door.get(reverse("checkin:door", args=[event.slug])).content.decode()

    assert door_message(html).startswith("The door closed at ")
    assert 'id="checkin-form"' not in html


def test_door_page_inside_the_window_has_the_form(door):
    event = event_around_now(starts=timedelta(hours=2))

    html = door.get(reverse("checkin:door", args=[event.slug])).content.decode()

    assert door_message(html) == ""
    assert 'id="checkin-form"' in html


def test_door_scan_three_weeks_after_answers_door_closed_and_changes_nothing(door):
    registration = RegistrationFactory(
        event=event_around_now(starts=-timedelta(weeks=3))
    )

    response = door.post(
        reverse("checkin:scan", args=[registration.event.slug]),
        {"code": registration.ticket_code},
        **JSON,
    )

    assert response.status_code == 200
    assert (response.json()["ok"], response.json()["status"]) == (False, "door_closed")
    registration.refresh_from_db()
    assert registration.checked_in_at is None


# The admin's action --------------------------------------------------------------
def test_admin_check_in_action_outside_the_window_shows_the_refusal_not_a_500(
    admin_client,
):
    registration = RegistrationFactory(
        event=event_around_now(starts=-timedelta(weeks=3)),
        user=UserFactory(name="Ada Lovelace"),
    )

    response = admin_client.post(
        reverse("admin:events_registration_changelist"),
        {"action": "check_in", "_selected_action": [registration.pk]},
        follow=True,
    )

    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith(f"{registration}: The door closed at ")
    assert message.endswith(": check-in has ended.")
    registration.refresh_from_db()
    assert registration.checked_in_at is None


# The volunteer's list of doors ---------------------------------------------------
def test_events_at_the_door_drops_a_door_once_it_has_closed(event):
    assert selectors.events_at_the_door(now=END + timedelta(hours=2)) == [event]
    assert selectors.events_at_the_door(now=END + timedelta(hours=3)) == []
