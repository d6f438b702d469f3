"""Every change to events and registrations happens here.

Capacity is decided in one place, `_fill_or_waitlist` and `_promote_waitlisted`, and
always under the same lock: the event's row, taken with SELECT ... FOR UPDATE at the
start of a short transaction. Seats are counted from the registrations themselves, so
there is no counter that can drift.
"""

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from events import exceptions
from events.models import Event, Registration
from events.rules import registration_refusal

Status = Registration.Status


def _lock_event(event_id: int) -> Event:
    """Takes the event's row lock until the surrounding transaction ends."""
    return Event.objects.select_for_update().get(pk=event_id)


def _check_accepting_registrations(event: Event, *, now) -> None:
    refusal = registration_refusal(event, now=now)
    if refusal is not None:
        raise refusal


def _active_registration(*, event: Event, user: User) -> Registration | None:
    return Registration.objects.active().filter(event=event, user=user).first()


def register(*, event: Event, user: User) -> Registration:
    """Registers user for event: confirmed while seats remain, else waitlisted.

    Idempotent: when the user already has an active (confirmed or waitlisted)
    registration for the event, that one is returned unchanged.
    Raises a RegistrationError subclass when the event does not accept registrations.
    """
    existing = _active_registration(event=event, user=user)
    if existing:
        return existing
    _check_accepting_registrations(event, now=timezone.now())
    with transaction.atomic():
        locked = _lock_event(event.pk)
        # One query under the lock: the seats taken, and whether a double click
        # already registered this user while we waited for the lock.
        seen = Registration.objects.filter(event=locked).aggregate(
            confirmed=Count("pk", filter=Q(status=Status.CONFIRMED)),
            mine=Max("pk", filter=Q(user=user) & ~Q(status=Status.CANCELLED)),
        )
        if seen["mine"] is not None:
            return Registration.objects.get(pk=seen["mine"])
        now = timezone.now()
        _check_accepting_registrations(locked, now=now)
        if seen["confirmed"] < locked.capacity:
            return Registration.objects.create(
                event=locked, user=user, status=Status.CONFIRMED, confirmed_at=now
            )
        return Registration.objects.create(
            event=locked, user=user, status=Status.WAITLISTED, waitlisted_at=now
        )


def _promote_waitlisted(event: Event, *, now) -> list[Registration]:
    """Confirms waitlisted registrations, oldest first, while seats are free.

    The caller holds the event's lock. Nobody is promoted into an event that has
    started or is cancelled.
    """
    if event.status == Event.Status.CANCELLED or now >= event.starts_at:
        return []
    confirmed = Registration.objects.filter(event=event).confirmed().count()
    free = event.capacity - confirmed
    if free <= 0:
        return []
    promoted = list(Registration.objects.filter(event=event).in_waitlist_order()[:free])
    for registration in promoted:
        registration.status = Status.CONFIRMED
        registration.confirmed_at = now
    Registration.objects.bulk_update(promoted, ["status", "confirmed_at"])
    return promoted


def cancel_registration(*, registration: Registration) -> Registration:
    """Cancels a registration; a freed seat goes at once to the longest-waiting person.

    Idempotent: cancelling a cancelled registration returns it unchanged.
    """
    with transaction.atomic():
        event = _lock_event(registration.event_id)
        current = Registration.objects.get(pk=registration.pk)
        if current.status == Status.CANCELLED:
            return current
        freed_seat = current.status == Status.CONFIRMED
        now = timezone.now()
        current.status = Status.CANCELLED
        current.cancelled_at = now
        current.save(update_fields=["status", "cancelled_at"])
        if freed_seat:
            _promote_waitlisted(event, now=now)
    return current


def set_capacity(*, event: Event, capacity: int) -> Event:
    """Sets the event's capacity; more seats are filled from the waitlist at once.

    Raises CapacityError, changing nothing, when capacity is negative or below the
    number of people already confirmed.
    """
    if capacity < 0:
        raise exceptions.CapacityError(_("Capacity cannot be negative."))
    with transaction.atomic():
        locked = _lock_event(event.pk)
        confirmed = Registration.objects.filter(event=locked).confirmed().count()
        if capacity < confirmed:
            raise exceptions.CapacityError(
                ngettext(
                    "%(count)d person is already confirmed, so capacity cannot go "
                    "below %(count)d. Cancel registrations first.",
                    "%(count)d people are already confirmed, so capacity cannot go "
                    "below %(count)d. Cancel registrations first.",
                    confirmed,
                )
                % {"count": confirmed}
            )
        locked.capacity = capacity
        locked.save(update_fields=["capacity", "updated_at"])
        _promote_waitlisted(locked, now=timezone.now())
    event.capacity = capacity
    return locked
