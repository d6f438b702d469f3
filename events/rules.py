"""Whether an event takes registrations: shared by the services and the pages."""

from events import exceptions
from events.models import Event


def registration_refusal(event: Event, *, now) -> exceptions.RegistrationError | None:
    """The error a registration attempt would meet right now, or None if it is open."""
    if event.status == Event.Status.CANCELLED:
        return exceptions.EventCancelled()
    if event.status != Event.Status.PUBLISHED:
        return exceptions.EventNotPublished()
    if now >= event.starts_at:
        return exceptions.EventStarted()
    if event.registration_opens_at and now < event.registration_opens_at:
        return exceptions.RegistrationNotOpenYet()
    if now >= event.registration_closes:
        return exceptions.RegistrationClosed()
    return None
