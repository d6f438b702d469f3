"""The rules of who sees an event, registration, capacity and the door: shared by
the services, pages, feeds and admin."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from events import exceptions
from events.models import Event, Registration


def visible_to(user: User | None) -> Q:
    """Who may see this event, as a filter on events: the one rule behind the event
    page, the city pages and the iCal feeds.

    Staff see every event. Anyone else, and every feed (user None), sees a published
    event, and one cancelled after it was published: its page says so and subscribed
    calendars drop it. A draft is never public, nor is a draft cancelled before it
    was announced (published_at is when it first was).
    """
    if user is not None and user.is_staff:
        return Q()
    return Q(status=Event.Status.PUBLISHED) | Q(
        status=Event.Status.CANCELLED, published_at__isnull=False
    )


def registration_refusal(event: Event, *, now) -> exceptions.RegistrationError | None:
    """The error a registration attempt would meet right now, or None if it is open.

    Registration closes when the event starts, or earlier at registration_closes_at.
    """
    if event.status == Event.Status.CANCELLED:
        return exceptions.EventCancelled()
    if event.status != Event.Status.PUBLISHED:
        return exceptions.EventNotPublished()
    if now >= event.starts_at:
        return exceptions.EventStarted()
    if event.registration_opens_at and now < event.registration_opens_at:
        return exceptions.RegistrationNotOpenYet()
    if event.registration_closes_at and now >= event.registration_closes_at:
        return exceptions.RegistrationClosed()
    return None


def reminder_refusal(registration: Registration, *, at: datetime) -> str:
    """Why the attendee of registration gets no reminder of its event at the moment
    at, or "" when they do: the one rule of the scan that queues reminders (at: when
    the reminder fell due) and of delivery, which asks again when it sends (at: now),
    so a reminder queued before a change that rules it out is skipped.

    A reminder is for an event that is published (not taken back to draft, not
    cancelled) and has not started, to an attendee confirmed by then who wants
    reminders. Reads the registration's event and user.
    """
    event, user = registration.event, registration.user
    if event.status == Event.Status.CANCELLED:
        return "The event was cancelled before this could be sent."
    if event.status != Event.Status.PUBLISHED:
        return "The event was no longer published when this could be sent."
    if registration.status == Registration.Status.CANCELLED:
        return "The registration was cancelled before this could be sent."
    if registration.status != Registration.Status.CONFIRMED or not (
        registration.confirmed_at and registration.confirmed_at <= at
    ):
        return "Not confirmed when this reminder was due."
    if at >= event.starts_at:
        return "The event had started before the reminder could be sent."
    if user is None or not user.email_reminders:
        return "The attendee turned reminders off."
    return ""


def capacity_refusal(
    *, capacity: int, confirmed: int
) -> exceptions.CapacityError | None:
    """Why capacity cannot be set to this value, or None if it can."""
    if capacity < 0:
        return exceptions.CapacityError(_("Capacity cannot be negative."))
    if capacity < confirmed:
        return exceptions.CapacityError(
            ngettext(
                "%(count)d person is already confirmed, so capacity cannot go "
                "below %(count)d. Cancel registrations first.",
                "%(count)d people are already confirmed, so capacity cannot go "
                "below %(count)d. Cancel registrations first.",
                confirmed,
            )
            % {"count": confirmed}
        )
    return None


def checkin_margins() -> tuple[timedelta, timedelta]:
    """How long before its start an event's door opens, and after its end it closes
    (settings CHECKIN_OPENS_HOURS_BEFORE and CHECKIN_CLOSES_HOURS_AFTER)."""
    return (
        timedelta(hours=settings.CHECKIN_OPENS_HOURS_BEFORE),
        timedelta(hours=settings.CHECKIN_CLOSES_HOURS_AFTER),
    )


def checkin_window(event: Event) -> tuple[datetime, datetime]:
    """When the event's door opens, and when it closes (the first moment it is shut)."""
    before, after = checkin_margins()
    return event.starts_at - before, event.ends_at + after
