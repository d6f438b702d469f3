"""Every .ics Turnout makes: the invitation an attendee's email carries, and the
feeds calendar apps subscribe to (the whole series, each city).

Each event is written in its own zone (DTSTART;TZID=...), with the VTIMEZONE it needs
placed before the events that refer to it, as clients expect; one builder makes every
VTIMEZONE. Cancelled events are STATUS:CANCELLED, so calendars drop them.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from email.utils import parseaddr
from functools import lru_cache

import icalendar
from django.conf import settings
from django.utils import timezone

from config.site import absolute, host
from events.models import Event

PRODID = "-//Turnout//Turnout events//EN"


@lru_cache(maxsize=256)
def vtimezone(tzid: str, first_year: int, last_year: int | None = None) -> bytes:
    """The VTIMEZONE for an IANA zone from first_year to the end of last_year (or of
    the year after first_year), written once per worker.

    icalendar's add_missing_timezones covers 1970-2038 for every calendar: some 140
    transitions to build and write out, most of a message's rendering time and
    size. A calendar needs only the observances around its own dates (RFC 5545,
    3.6.5), the same for every attendee of every event in that zone.
    """
    last_year = max(last_year or first_year + 1, first_year)
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    ).to_ical()


def _calendar(method: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    return calendar


def _vevent(event: Event, *, uid: str, cancelled: bool) -> icalendar.Event:
    """The parts of an event every .ics gives it: when, where, what, its page."""
    vevent = icalendar.Event()
    vevent.add("uid", uid)
    vevent.add("dtstart", event.starts_at.astimezone(event.zone))
    vevent.add("dtend", event.ends_at.astimezone(event.zone))
    vevent.add("summary", event.title)
    vevent.add("location", f"{event.venue_name}, {event.venue_address}")
    vevent.add("url", absolute(event.get_absolute_url()))
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return vevent


def _with_zones(calendar: icalendar.Calendar, years: dict[str, set[int]]) -> bytes:
    """The calendar's text with one VTIMEZONE per zone (covering every year its
    events fall in) before the first event."""
    text = calendar.to_ical()
    zones = b"".join(
        vtimezone(tzid, min(spanned), max(spanned)) for tzid, spanned in years.items()
    )
    marker = b"BEGIN:VEVENT\r\n" if b"BEGIN:VEVENT\r\n" in text else b"END:VCALENDAR"
    head, found, rest = text.partition(marker)
    return head + zones + found + rest


def _years(event: Event) -> set[int]:
    return {
        event.starts_at.astimezone(event.zone).year,
        event.ends_at.astimezone(event.zone).year,
    }


# The attendee's invitation -----------------------------------------------------------
def invitation_uid(event: Event, user) -> str:
    """One UID per (event, attendee): each update replaces the invitation before."""
    return f"turnout-event-{event.pk}-attendee-{user.pk}@{host()}"


def invitation(*, event: Event, user, to_email: str, method: str, sequence: int) -> str:
    """The .ics an attendee's email carries: REQUEST puts (or keeps) the event in
    their calendar, CANCEL removes it; sequence orders the updates."""
    calendar = _calendar(method)
    cancelled = method == "CANCEL"
    vevent = _vevent(event, uid=invitation_uid(event, user), cancelled=cancelled)
    vevent.add("dtstamp", timezone.now())
    vevent.add("sequence", sequence)
    vevent.add("description", absolute(event.get_absolute_url()))
    organizer_name, organizer_email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = icalendar.vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = icalendar.vText(organizer_name or "Turnout")
    vevent.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{to_email}")
    attendee.params["cn"] = icalendar.vText(user.get_full_name())
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = icalendar.vText(
        "DECLINED" if cancelled else "ACCEPTED"
    )
    attendee.params["rsvp"] = icalendar.vText("FALSE")
    vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    start_year = event.starts_at.astimezone(event.zone).year
    return _with_zones(calendar, {event.timezone: {start_year}}).decode()


# Feeds ------------------------------------------------------------------------------
def feed_uid(event: Event) -> str:
    return f"turnout-event-{event.pk}@{host()}"


def feed(events: Iterable[Event], *, name: str) -> bytes:
    """The events as one VCALENDAR (METHOD:PUBLISH), titles in the active language
    where they exist, else as events.models.Event falls back."""
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)
    # Ask subscribed calendars to look again every hour (RFC 7986; and Outlook's).
    calendar.add("refresh-interval", icalendar.vDuration(timedelta(hours=1)))
    calendar["refresh-interval"].params["value"] = "DURATION"
    calendar.add("x-published-ttl", "PT1H")
    years: dict[str, set[int]] = {}  # each zone: the years its events fall in
    for event in events:
        years.setdefault(event.timezone, set()).update(_years(event))
        cancelled = event.status == Event.Status.CANCELLED
        vevent = _vevent(event, uid=feed_uid(event), cancelled=cancelled)
        vevent.add("dtstamp", event.updated_at)
        vevent.add("last-modified", event.updated_at)
        vevent.add("sequence", event.sequence)
        url = absolute(event.get_absolute_url())
        vevent.add("description", f"{event.description}\n\n{url}".strip())
        calendar.add_component(vevent)
    return _with_zones(calendar, years)
