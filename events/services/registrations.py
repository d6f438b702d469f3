"""The only code that decides a seat: registering, cancelling, promoting, capacity.

Capacity is decided only under one lock: the event's row, taken with
SELECT ... FOR UPDATE at the start of a short transaction (lock_event); a change that
cannot have it within EVENT_LOCK_TIMEOUT_SECONDS gives up as EventBusy. Seats are
counted from the registrations themselves, so there is no counter that can drift, and
free seats always go to the waitlist, oldest first, before anyone new.

Every change an attendee should hear about queues its email in the same transaction
(the outbox), so a rolled-back change sends nothing and a committed one is never
forgotten.
"""

import logging

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config import audit
from events import exceptions
from events.messages import Kind, for_registration
from events.models import Event, Registration
from events.rules import capacity_refusal, registration_refusal
from notifications import outbox

logger = logging.getLogger(__name__)

Status = Registration.Status
# PostgreSQL's SQLSTATE for a lock wait cut short by lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


def lock_event(event_id: int) -> Event:
    """Takes the event's row lock until the surrounding transaction ends.

    Waits at most EVENT_LOCK_TIMEOUT_SECONDS for it (on PostgreSQL), then raises
    EventBusy: the caller's transaction rolls back and nothing is changed, so one
    slow change never holds every web worker behind it. Only this wait is bounded:
    once the lock is held, the transaction's lock_timeout is what it was before.
    """
    wait_ms = round(settings.EVENT_LOCK_TIMEOUT_SECONDS * 1000)
    if connection.vendor != "postgresql" or wait_ms <= 0:
        # SQLite has no row locks and no lock_timeout: its writers queue on the file.
        return Event.objects.select_for_update().get(pk=event_id)
    with connection.cursor() as cursor:
        cursor.execute(
            # OFFSET 0 keeps the subquery apart: the old value is read before the
            # new one is set.
            "SELECT before.value, set_config('lock_timeout', %s, true) FROM "
            "(SELECT current_setting('lock_timeout') AS value OFFSET 0) AS before",
            [f"{wait_ms}ms"],
        )
        previous = cursor.fetchone()[0]
        try:
            locked = Event.objects.select_for_update().get(pk=event_id)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            logger.warning(
                "Event %s stayed locked for over %s s; the change was refused as busy.",
                event_id,
                settings.EVENT_LOCK_TIMEOUT_SECONDS,
            )
            raise exceptions.EventBusy() from error
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return locked


def _raise_if_refused(event: Event, *, now) -> None:
    refusal = registration_refusal(event, now=now)
    if refusal is not None:
        raise refusal


def confirmed_count(event: Event) -> int:
    return Registration.objects.filter(event=event).confirmed().count()


def promote_waitlisted(event: Event, *, confirmed: int, now) -> list[Registration]:
    """Confirms waitlisted registrations, oldest first, into the free seats.

    The caller holds the event's lock and passes the confirmed count it saw under it.
    Nobody is promoted into an event that has started or is cancelled.
    """
    free = event.capacity - confirmed
    if free <= 0 or event.status == Event.Status.CANCELLED or now >= event.starts_at:
        return []
    promoted = list(
        Registration.objects.filter(event=event)
        .in_waitlist_order()
        .select_related("user")[:free]
    )
    for registration in promoted:
        registration.status = Status.CONFIRMED
        registration.confirmed_at = now
    Registration.objects.bulk_update(promoted, ["status", "confirmed_at"])
    outbox.queue([for_registration(r, Kind.PROMOTED) for r in promoted])
    return promoted


def register(*, event: Event, user: User) -> Registration:
    """Registers user for event: confirmed while seats remain, else waitlisted.

    Idempotent: when the user already has an active (confirmed or waitlisted)
    registration for the event, that one is returned unchanged.
    Raises a RegistrationError subclass when the event does not accept registrations.
    """
    before = Registration.objects.filter(event=event, user=user).aggregate(
        active=Max("pk", filter=~Q(status=Status.CANCELLED)), earlier=Count("pk")
    )
    if before["active"] is not None:
        return Registration.objects.get(pk=before["active"])
    _raise_if_refused(event, now=timezone.now())
    # Each registration's calendar SEQUENCE starts past the previous one's CANCEL.
    calendar_offset = 2 * before["earlier"]
    with transaction.atomic():
        locked = lock_event(event.pk)
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
            promoted = promote_waitlisted(locked, confirmed=confirmed, now=now)
            confirmed, waiting = confirmed + len(promoted), waiting - len(promoted)
        if confirmed < locked.capacity and not waiting:
            registration = Registration.objects.create(
                event=locked,
                user=user,
                status=Status.CONFIRMED,
                confirmed_at=now,
                calendar_offset=calendar_offset,
            )
            outbox.queue([for_registration(registration, Kind.CONFIRMED)])
            return registration
        registration = Registration.objects.create(
            event=locked,
            user=user,
            status=Status.WAITLISTED,
            waitlisted_at=now,
            calendar_offset=calendar_offset,
        )
        position = {"position": waiting + 1}
        outbox.queue(
            [for_registration(registration, Kind.WAITLISTED, context=position)]
        )
        return registration


def cancel_registration(
    *, registration: Registration, by: User | None = None
) -> Registration:
    """Cancels a registration; a freed seat goes at once to the longest-waiting person.

    Idempotent: cancelling a cancelled registration returns it unchanged. Records
    the cancel by by (staff; an attendee's own is not recorded). Raises
    RegistrationLocked once the event has started: what happened stays on record.
    """
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.select_related("user").get(pk=registration.pk)
        if current.status == Status.CANCELLED:
            return current
        now = timezone.now()
        if now >= event.starts_at:
            raise exceptions.RegistrationLocked()
        freed_seat = current.status == Status.CONFIRMED
        was = {"was": current.status}
        current.status = Status.CANCELLED
        current.cancelled_at = now
        current.save(update_fields=["status", "cancelled_at"])
        outbox.queue([for_registration(current, Kind.CANCELLED, context=was)])
        audit.record(by=by, objects=[current], message="Cancelled.")
        if freed_seat:
            promote_waitlisted(event, confirmed=confirmed_count(event), now=now)
    return current


def set_capacity(*, event: Event, capacity: int) -> Event:
    """Sets the event's capacity; more seats are filled from the waitlist at once.

    Raises CapacityError, changing nothing, when capacity is negative or below the
    number of people already confirmed.
    """
    with transaction.atomic():
        locked = lock_event(event.pk)
        confirmed = confirmed_count(locked)
        refusal = capacity_refusal(capacity=capacity, confirmed=confirmed)
        if refusal is not None:
            raise refusal
        locked.capacity = capacity
        locked.save(update_fields=["capacity", "updated_at"])
        promote_waitlisted(locked, confirmed=confirmed, now=timezone.now())
    event.capacity = capacity
    return locked


def promote(*, registration: Registration, by: User | None = None) -> Registration:
    """Gives a waitlisted person a seat now, ahead of the queue: staff's choice.

    Takes a free seat when there is one; otherwise the capacity rises by one, so
    capacity still bounds the confirmed count. The person is told ("you're in").
    Raises RegistrationError when the registration is not waitlisted or the event
    has started or is cancelled.
    """
    with transaction.atomic():
        event = lock_event(registration.event_id)
        current = Registration.objects.select_related("user").get(pk=registration.pk)
        if current.status != Status.WAITLISTED:
            raise exceptions.RegistrationError(
                _("Only someone on the waitlist can be promoted.")
            )
        now = timezone.now()
        if event.status == Event.Status.CANCELLED:
            raise exceptions.EventCancelled()
        if now >= event.starts_at:
            raise exceptions.RegistrationLocked()
        if confirmed_count(event) >= event.capacity:
            event.capacity += 1
            event.save(update_fields=["capacity", "updated_at"])
            audit.record(
                by=by,
                objects=[event],
                # The registration's id, not the person's name: the admin log
                # outlives their account.
                message=f"Capacity raised to {event.capacity} to promote "
                f"registration {current.pk}.",
            )
        current.status = Status.CONFIRMED
        current.confirmed_at = now
        current.save(update_fields=["status", "confirmed_at"])
        outbox.queue([for_registration(current, Kind.PROMOTED)])
        audit.record(by=by, objects=[current], message="Promoted from the waitlist.")
    return current
