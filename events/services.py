"""Every change to events and registrations happens here.

Capacity is decided only under one lock: the event's row, taken with
SELECT ... FOR UPDATE at the start of a short transaction. Seats are counted from the
registrations themselves, so there is no counter that can drift, and free seats always
go to the waitlist, oldest first, before anyone new.
"""

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.models import User
from events import exceptions
from events.models import Event, Registration
from events.rules import capacity_refusal, registration_refusal

Status = Registration.Status


def _lock_event(event_id: int) -> Event:
    """Takes the event's row lock until the surrounding transaction ends."""
    return Event.objects.select_for_update().get(pk=event_id)


def _raise_if_refused(event: Event, *, now) -> None:
    refusal = registration_refusal(event, now=now)
    if refusal is not None:
        raise refusal


def _confirmed_count(event: Event) -> int:
    return Registration.objects.filter(event=event).confirmed().count()


def _promote_waitlisted(event: Event, *, confirmed: int, now) -> list[Registration]:
    """Confirms waitlisted registrations, oldest first, into the free seats.

    The caller holds the event's lock and passes the confirmed count it saw under it.
    Nobody is promoted into an event that has started or is cancelled.
    """
    free = event.capacity - confirmed
    if free <= 0 or event.status == Event.Status.CANCELLED or now >= event.starts_at:
        return []
    promoted = list(Registration.objects.filter(event=event).in_waitlist_order()[:free])
    for registration in promoted:
        registration.status = Status.CONFIRMED
        registration.confirmed_at = now
    Registration.objects.bulk_update(promoted, ["status", "confirmed_at"])
    return promoted


def register(*, event: Event, user: User) -> Registration:
    """Registers user for event: confirmed while seats remain, else waitlisted.

    Idempotent: when the user already has an active (confirmed or waitlisted)
    registration for the event, that one is returned unchanged.
    Raises a RegistrationError subclass when the event does not accept registrations.
    """
    existing = Registration.objects.active().filter(event=event, user=user).first()
    if existing:
        return existing
    _raise_if_refused(event, now=timezone.now())
    with transaction.atomic():
        locked = _lock_event(event.pk)
        # One query under the lock: the seats taken, the queue, and whether a double
        # click already registered this user while we waited for the lock.
        seen = Registration.objects.filter(event=locked).aggregate(
            confirmed=Count("pk", filter=Q(status=Status.CONFIRMED)),
            waiting=Count("pk", filter=Q(status=Status.WAITLISTED)),
            mine=Max("pk", filter=Q(user=user) & ~Q(status=Status.CANCELLED)),
        )
        if seen["mine"] is not None:
            return Registration.objects.get(pk=seen["mine"])
        now = timezone.now()
        _raise_if_refused(locked, now=now)
        confirmed, waiting = seen["confirmed"], seen["waiting"]
        if waiting and confirmed < locked.capacity:
            # Seats and a queue together (e.g. the event was re-published): the
            # queue goes first.
            promoted = _promote_waitlisted(locked, confirmed=confirmed, now=now)
            confirmed, waiting = confirmed + len(promoted), waiting - len(promoted)
        if confirmed < locked.capacity and not waiting:
            return Registration.objects.create(
                event=locked, user=user, status=Status.CONFIRMED, confirmed_at=now
            )
        return Registration.objects.create(
            event=locked, user=user, status=Status.WAITLISTED, waitlisted_at=now
        )


def cancel_registration(*, registration: Registration) -> Registration:
    """Cancels a registration; a freed seat goes at once to the longest-waiting person.

    Idempotent: cancelling a cancelled registration returns it unchanged. Raises
    RegistrationLocked once the event has started: what happened stays on record.
    """
    with transaction.atomic():
        event = _lock_event(registration.event_id)
        current = Registration.objects.get(pk=registration.pk)
        if current.status == Status.CANCELLED:
            return current
        now = timezone.now()
        if now >= event.starts_at:
            raise exceptions.RegistrationLocked()
        freed_seat = current.status == Status.CONFIRMED
        current.status = Status.CANCELLED
        current.cancelled_at = now
        current.save(update_fields=["status", "cancelled_at"])
        if freed_seat:
            _promote_waitlisted(event, confirmed=_confirmed_count(event), now=now)
    return current


def set_capacity(*, event: Event, capacity: int) -> Event:
    """Sets the event's capacity; more seats are filled from the waitlist at once.

    Raises CapacityError, changing nothing, when capacity is negative or below the
    number of people already confirmed.
    """
    with transaction.atomic():
        locked = _lock_event(event.pk)
        confirmed = _confirmed_count(locked)
        refusal = capacity_refusal(capacity=capacity, confirmed=confirmed)
        if refusal is not None:
            raise refusal
        locked.capacity = capacity
        locked.save(update_fields=["capacity", "updated_at"])
        _promote_waitlisted(locked, confirmed=confirmed, now=timezone.now())
    event.capacity = capacity
    return locked
