"""iCal feeds calendar apps subscribe to: the whole series, and each city.

Each event is written in its own zone (DTSTART;TZID=...), with the VTIMEZONE it
needs, so a subscriber anywhere sees it at the right moment. Cancelled events stay
in the feed as STATUS:CANCELLED, so calendars drop them.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.utils import timezone

from events.emails import absolute, vtimezone
from events.models import Event


def feed_uid(event: Event) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "turnout.localhost"
    return f"turnout-event-{event.pk}@{host}"


def calendar_feed(events: Iterable[Event], *, name: str) -> bytes:
    """The events as one VCALENDAR (METHOD:PUBLISH), titles in the active language
    where they exist, else as events.models.Event falls back."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Turnout//Turnout events//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("name", name)
    # Ask subscribed calendars to look again every hour (RFC 7986; and Outlook's).
    calendar.add("refresh-interval", icalendar.vDuration(timezone.timedelta(hours=1)))
    calendar["refresh-interval"].params["value"] = "DURATION"
    calendar.add("x-published-ttl", "PT1H")
    years: dict[str, set[int]] = {}  # each zone: the years its events fall in
    for event in events:
        start = event.starts_at.astimezone(event.zone)
        end = event.ends_at.astimezone(event.zone)
        years.setdefault(event.timezone, set()).update((start.year, end.year))
        vevent = icalendar.Event()
        vevent.add("uid", feed_uid(event))
        vevent.add("dtstamp", event.updated_at)
        vevent.add("last-modified", event.updated_at)
        vevent.add("sequence", event.sequence)
        vevent.add("dtstart", start)
        vevent.add("dtend", event.ends_at.astimezone(event.zone))
        vevent.add("summary", event.title)
        vevent.add("location", f"{event.venue_name}, {event.venue_address}")
        url = absolute(event.get_absolute_url())
        vevent.add("url", url)
        vevent.add("description", f"{event.description}\n\n{url}".strip())
        cancelled = event.status == Event.Status.CANCELLED
        vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        calendar.add_component(vevent)
    text = calendar.to_ical()
    # The zones go before the events that refer to them, as clients expect.
    # One VTIMEZONE per zone, covering every year its events fall in.
    zone_text = b"".join(
        vtimezone(tzid, min(spanned), max(spanned)) for tzid, spanned in years.items()
    )
    marker = b"BEGIN:VEVENT\r\n" if b"BEGIN:VEVENT\r\n" in text else b"END:VCALENDAR"
    head, found, rest = text.partition(marker)
    return head + zone_text + found + rest
