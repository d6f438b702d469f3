"""The rules of registration and capacity: shared by the services, pages and admin."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from events import exceptions
from events.models import Event


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
