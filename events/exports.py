"""Attendee lists as CSV, streamed row by row so a big event never sits in memory.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a
formula; such cells are written with a leading apostrophe so they stay text (OWASP,
"CSV Injection").
"""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from config import audit
from events.models import Event, Registration
from events.selectors import with_waitlist_position

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value) -> str:
    """The cell as text a spreadsheet will not evaluate."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write() returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def header() -> list[str]:
    return [
        _("Event"),
        _("Event slug"),
        _("Name"),
        _("Email"),
        _("Status"),
        _("Waitlist position"),
        _("Registered at (UTC)"),
        _("Confirmed at (UTC)"),
        _("Checked in at (UTC)"),
        _("Ticket code"),
        _("Language"),
    ]


def attendee_registrations(events: QuerySet[Event]) -> QuerySet[Registration]:
    """Every registration of the events, event by event, in waitlist order."""
    return with_waitlist_position(
        Registration.objects.filter(event__in=events)
        .select_related("event", "user")
        .prefetch_related("event__translations")
    ).order_by("event__starts_at", "event_id", "status", "waitlisted_at", "pk")


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""


def rows(registrations: Iterable[Registration]) -> Iterator[list[str]]:
    for registration in registrations:
        user, event = registration.user, registration.event
        yield [
            neutralize(cell)
            for cell in (
                event.title,
                event.slug,
                user.get_full_name() if user else "",  # erased: no one to name
                user.email if user else "",
                registration.get_status_display(),
                registration.waitlist_position or "",
                _iso(registration.created_at),
                _iso(registration.confirmed_at),
                _iso(registration.checked_in_at),
                registration.ticket_code,
                user.language if user else "",
            )
        ]


def stream_csv(events: QuerySet[Event]) -> Iterator[str]:
    """The CSV text, one line at a time: a header, then a row per registration."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so spreadsheet programs read the file as UTF-8
    yield writer.writerow(header())
    registrations = attendee_registrations(events).iterator(chunk_size=500)
    for row in rows(registrations):
        yield writer.writerow(row)


def export_attendees(*, events: QuerySet[Event], by) -> Iterator[str]:
    """The attendees of the events as CSV text (stream_csv), the export recorded by
    by in each event's history."""
    events = list(events)
    audit.record(by=by, objects=events, message="Attendees exported.")
    return stream_csv(Event.objects.filter(pk__in=[event.pk for event in events]))
