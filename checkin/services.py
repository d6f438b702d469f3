"""The door: checking in the holder of a ticket, and undoing a mistaken check-in."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from checkin import exceptions
from checkin.rules import checkin_refusal
from config import audit
from events.models import Event, Registration
from events.tickets import is_ticket_code, normalize_ticket_code

Status = Registration.Status


@dataclass(frozen=True)
class CheckIn:
    registration: Registration
    first: bool  # False: the ticket had been checked in before, at checked_in_at


def check_in(
    *, event: Event, code: str, by: User | None, now: datetime | None = None
) -> CheckIn:
    """Checks in the holder of the ticket code at event's door, at now (default: now).

    Idempotent and safe when two people scan the same ticket at once: one
    conditional UPDATE sets the check-in time only where it is empty, so exactly one
    scan records it and the others learn when that was. Raises a CheckInRefused
    subclass when the door is not open (rules.checkin_refusal: a draft or cancelled
    event, or outside the hours around the event), for an unknown code, a ticket for
    another event, or a registration that is not confirmed. Changes nothing when it
    refuses.
    """
    now = timezone.now() if now is None else now
    _raise_unless_door_open(event, now=now)
    normalized = normalize_ticket_code(code)
    registration = None
    if is_ticket_code(normalized):  # anything else (NUL, 1 KB of text) never queries
        registration = (
            Registration.objects.select_related("user", "checked_in_by")
            .filter(ticket_code=normalized)
            .first()
        )
    if registration is None:
        raise exceptions.UnknownTicket()
    if registration.event_id != event.pk:
        raise exceptions.TicketForAnotherEvent()
    _raise_unless_confirmed(registration)
    recorded = Registration.objects.filter(
        pk=registration.pk, status=Status.CONFIRMED, checked_in_at__isnull=True
    ).update(checked_in_at=now, checked_in_by=by)
    if recorded:
        registration.checked_in_at, registration.checked_in_by = now, by
        audit.record(by=by, objects=[registration], message="Checked in.")
        return CheckIn(registration=registration, first=True)
    registration.refresh_from_db(fields=["status", "checked_in_at", "checked_in_by"])
    _raise_unless_confirmed(registration)  # cancelled while we looked
    return CheckIn(registration=registration, first=False)


def _raise_unless_door_open(event: Event, *, now: datetime) -> None:
    # Before the code is looked up: a shut door tells nothing about tickets.
    refusal = checkin_refusal(event, now=now)
    if refusal is not None:
        raise refusal


def _raise_unless_confirmed(registration: Registration) -> None:
    if registration.status == Status.CANCELLED:
        raise exceptions.TicketNotConfirmed(_("This registration was cancelled."))
    if registration.status == Status.WAITLISTED:
        raise exceptions.TicketNotConfirmed(
            _("This person is on the waitlist, not confirmed: no seat yet.")
        )


def undo_check_in(
    *, registration: Registration, by: User | None = None
) -> Registration:
    """Clears a check-in made by mistake. Idempotent."""
    undone = Registration.objects.filter(
        pk=registration.pk, checked_in_at__isnull=False
    ).update(checked_in_at=None, checked_in_by=None)
    registration.checked_in_at = registration.checked_in_by = None
    if undone:
        audit.record(by=by, objects=[registration], message="Check-in undone.")
    return registration
