"""Every change to events and registrations happens here.

Capacity is decided only under one lock: the event's row, taken with
SELECT ... FOR UPDATE at the start of a short transaction; a change that cannot have it
within EVENT_LOCK_TIMEOUT_SECONDS gives up as EventBusy. Seats are counted from the
registrations themselves, so there is no counter that can drift, and free seats always
go to the waitlist, oldest first, before anyone new.

Every change an attendee should hear about queues its email in the same transaction
(events.outbox), so a rolled-back change sends nothing and a committed one is never
forgotten.
"""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import get_language_info, override
from django.utils.translation import gettext as _

from accounts.models import User
from events import audit, exceptions, outbox
from events.models import (
    CitySubscription,
    Event,
    Message,
    Registration,
    is_ticket_code,
    normalize_ticket_code,
)
from events.rules import capacity_refusal, checkin_refusal, registration_refusal

logger = logging.getLogger(__name__)

Status = Registration.Status
Kind = Message.Kind
# PostgreSQL's SQLSTATE for a lock wait cut short by lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"
DETAIL_FIELDS = ("starts_at", "ends_at", "venue_name", "venue_address")
# What change_event never saves as a plain field: each has its service, or is the
# services' own bookkeeping.
SERVICE_FIELDS = frozenset(
    {"id", "capacity", "status", "sequence", "published_at", *DETAIL_FIELDS}
)


def _lock_event(event_id: int) -> Event:
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
    promoted = list(
        Registration.objects.filter(event=event)
        .in_waitlist_order()
        .select_related("user")[:free]
    )
    for registration in promoted:
        registration.status = Status.CONFIRMED
        registration.confirmed_at = now
    Registration.objects.bulk_update(promoted, ["status", "confirmed_at"])
    outbox.queue([outbox.for_registration(r, Kind.PROMOTED) for r in promoted])
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
            registration = Registration.objects.create(
                event=locked,
                user=user,
                status=Status.CONFIRMED,
                confirmed_at=now,
                calendar_offset=calendar_offset,
            )
            outbox.queue([outbox.for_registration(registration, Kind.CONFIRMED)])
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
            [outbox.for_registration(registration, Kind.WAITLISTED, context=position)]
        )
        return registration


def cancel_registration(*, registration: Registration) -> Registration:
    """Cancels a registration; a freed seat goes at once to the longest-waiting person.

    Idempotent: cancelling a cancelled registration returns it unchanged. Raises
    RegistrationLocked once the event has started: what happened stays on record.
    """
    with transaction.atomic():
        event = _lock_event(registration.event_id)
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
        outbox.queue([outbox.for_registration(current, Kind.CANCELLED, context=was)])
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


def _as_noticed(value):
    """A value as a person reads it: text with plain newlines for its line breaks (a
    browser sends \r\n), without whitespace around it or at the end of a line;
    anything else as it is."""
    if not isinstance(value, str):
        return value
    return "\n".join(line.rstrip() for line in value.splitlines()).strip()


def _noticeably_changed(locked: Event, details: Mapping[str, Any]) -> dict[str, Any]:
    """The details whose new value a person would tell from the saved one, as stored."""
    return {
        name: _as_noticed(value)
        for name, value in details.items()
        if _as_noticed(getattr(locked, name)) != _as_noticed(value)
    }


def update_event_details(*, event: Event, **details) -> Event:
    """Changes the event's time and venue; confirmed and waitlisted attendees are told.

    details may hold starts_at, ends_at, venue_name and venue_address. When one of
    them changes in a way a person would notice (not only its line endings or
    surrounding whitespace), the calendar sequence rises (invitations update) and, if
    the event is published, every active registration gets one "event changed" email
    saying what it was before. Text is stored with plain newlines. A new start
    withdraws the reminders not yet sent, so the scan queues them again for the new
    time. Raises ValidationError, changing nothing, when the result is not a valid
    event.
    """
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"not event details: {sorted(unknown)}")
    with transaction.atomic():
        locked = _lock_event(event.pk)
        changed = _noticeably_changed(locked, details)
        if not changed:
            return locked
        previous = {name: getattr(locked, name) for name in changed}
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.full_clean(validate_unique=False, validate_constraints=True)
        locked.sequence += 1
        locked.save(update_fields=[*changed, "sequence", "updated_at"])
        recorded = {
            name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in previous.items()
        }
        if "starts_at" in previous:
            # Reminders not sent yet follow the new time: the scan claims them again.
            Message.objects.filter(
                event=locked,
                kind=Kind.REMINDER,
                status__in=[Message.Status.QUEUED, Message.Status.SKIPPED],
            ).delete()
        if locked.status == Event.Status.PUBLISHED:
            _tell_everyone(locked, Kind.EVENT_CHANGED, {"previous": recorded})
    for name in DETAIL_FIELDS:
        setattr(event, name, getattr(locked, name))
    event.sequence = locked.sequence
    return locked


@dataclass(frozen=True)
class EventChange:
    """What change_event did that staff should hear of."""

    event: Event
    attendees_told: bool  # of a new time or venue
    cancelled: bool


def change_event(
    *, event: Event, changes: Mapping[str, Any], actor: User | None
) -> EventChange:
    """Saves staff's edit of an event; changes maps each field they changed to its value.

    Under the event's lock, in this order: time and venue through
    update_event_details (attendees told), capacity through set_capacity (the
    waitlist moves up), the plain fields and texts (on event, which may already carry
    them, as a ModelForm leaves it), then the status through publish_event,
    unpublish_event or cancel_event (each recording itself; a city's followers hear
    of the event as just saved). A change nobody would notice (an address's line
    endings) is none; fields not in changes are never written (a service may have
    changed them meanwhile). Records, by actor, which fields changed. All or nothing:
    raises ValidationError or a TurnoutError (CapacityError, EventCancelled) and
    saves nothing when any part is refused; whatever can refuse runs before the texts
    are saved, since parler's cache of them would outlive a rollback.
    """
    with transaction.atomic():
        locked = _lock_event(event.pk)
        status = changes.get("status", locked.status)
        if locked.status == Event.Status.CANCELLED and status != locked.status:
            raise exceptions.EventCancelled()
        details = _noticeably_changed(
            locked, {name: changes[name] for name in DETAIL_FIELDS if name in changes}
        )
        capacity = changes.get("capacity", locked.capacity)
        plain = [name for name in changes if name not in SERVICE_FIELDS]
        changed = [
            name
            for name in changes
            if name in plain
            or name in details
            or (name == "capacity" and capacity != locked.capacity)
            or (name == "status" and status != locked.status)
        ]
        if changed:
            audit.record(
                by=actor,
                objects=[event],
                message=audit.changed_fields(_labels(changed)),
            )
        told = False
        if details:
            moved = update_event_details(event=event, **details)
            told = moved.status == Event.Status.PUBLISHED
        if capacity != locked.capacity:
            set_capacity(event=event, capacity=capacity)
        if plain:  # the texts (translations) are saved with the row
            for name in plain:
                setattr(event, name, changes[name])
            concrete = {field.name for field in Event._meta.concrete_fields}
            event.save(
                update_fields=[n for n in plain if n in concrete] + ["updated_at"]
            )
        if status != locked.status:
            if status == Event.Status.CANCELLED:
                cancel_event(event=event, by=actor)
            elif status == Event.Status.PUBLISHED:
                publish_event(event=event, by=actor)
            else:
                unpublish_event(event=event, by=actor)
    event.refresh_from_db()
    return EventChange(
        event=event,
        attendees_told=told,
        cancelled=status != locked.status and status == Event.Status.CANCELLED,
    )


def _labels(names: list[str]) -> list[str]:
    """The fields' names as the admin's history shows them: stored untranslated, as
    Django stores its own, and translated when read."""
    with override(None):
        return [capfirst(str(_event_field(name).verbose_name)) for name in names]


def _event_field(name: str):
    try:
        return Event._meta.get_field(name)
    except FieldDoesNotExist:  # a translated one (title, description)
        texts = Event._meta.get_field("translations").related_model
        return texts._meta.get_field(name)


def cancel_event(*, event: Event, by: User | None = None) -> Event:
    """Cancels the event; everyone confirmed or waiting is told once.

    Registrations keep their status as a record of who was coming. Idempotent: only
    the call that cancels records it (by).
    """
    with transaction.atomic():
        locked = _lock_event(event.pk)
        if locked.status == Event.Status.CANCELLED:
            return locked
        was_public = locked.status == Event.Status.PUBLISHED
        locked.status = Event.Status.CANCELLED
        locked.sequence += 1
        locked.save(update_fields=["status", "sequence", "updated_at"])
        audit.record(by=by, objects=[locked], message="Cancelled.")
        if was_public:
            _tell_everyone(locked, Kind.EVENT_CANCELLED, {})
    event.status, event.sequence = locked.status, locked.sequence
    return locked


def _tell_everyone(event: Event, kind: str, context: dict) -> None:
    """Queues one message of kind to each active registration, keyed by the revision."""
    registrations = Registration.objects.filter(
        event=event, user__isnull=False
    ).active()
    outbox.queue(
        [
            outbox.for_registration(
                registration, kind, key=str(event.sequence), context=context
            )
            for registration in registrations.select_related("user")
        ]
    )


# Staff: publishing, copying, promoting, announcing --------------------------------
def publish_event(*, event: Event, by: User | None = None) -> Event:
    """Makes a draft event public. Idempotent; a cancelled event stays cancelled."""
    return _set_status(event, Event.Status.PUBLISHED, by=by, message="Published.")


def unpublish_event(*, event: Event, by: User | None = None) -> Event:
    """Takes a published event back to draft: its page and sign-ups close to the
    public. Registrations stay as they are, and come back with the event."""
    return _set_status(event, Event.Status.DRAFT, by=by, message="Unpublished.")


def _set_status(event: Event, status: str, *, by, message: str) -> Event:
    with transaction.atomic():
        locked = _lock_event(event.pk)
        if locked.status == Event.Status.CANCELLED:
            raise exceptions.EventCancelled()
        if locked.status != status:
            locked.status = status
            fields = ["status", "updated_at"]
            if status == Event.Status.PUBLISHED and locked.published_at is None:
                locked.published_at = timezone.now()
                fields.append("published_at")
            locked.save(update_fields=fields)
            audit.record(by=by, objects=[locked], message=message)
            if status == Event.Status.PUBLISHED:
                _tell_city_followers(locked)
    event.status, event.published_at = locked.status, locked.published_at
    return locked


SLUG_ATTEMPTS = 10


def duplicate_event(
    *,
    event: Event,
    city: str,
    country: str,
    timezone_name: str,
    starts_at: datetime,
    venue_name: str,
    venue_address: str,
    title: str = "",
    by: User | None = None,
) -> Event:
    """A draft copy of event in another city and at another time, same length.

    Title and description (in every language they exist in), capacity, reminders,
    language and series are copied; the old city's name in the titles becomes the
    new one, unless title gives the copy's title in the event's own language. The
    copy gets a new, unique slug (two copies made at the same moment get two) and no
    registrations. Raises ValidationError, creating nothing, when the copy is not a
    valid event in every one of its languages.
    """
    copy = Event(
        series=event.series,
        language=event.language,
        city=city,
        country=country,
        venue_name=venue_name,
        venue_address=venue_address,
        timezone=timezone_name,
        starts_at=starts_at,
        ends_at=starts_at + (event.ends_at - event.starts_at),
        capacity=event.capacity,
        reminder_offsets=list(event.reminder_offsets),
        status=Event.Status.DRAFT,
    )
    languages = []
    for text in event.translations.all():
        copy.set_current_language(text.language_code)
        copy.title = text.title.replace(event.city, city) if event.city else text.title
        copy.description = text.description
        languages.append(text.language_code)
    copy.set_current_language(event.language)
    if title:
        copy.title = title
    slug_base = slugify(f"{copy.title} {starts_at:%Y-%m-%d}")[:90] or "event"
    copy.slug = slug_base  # a valid placeholder: the database gives the real one
    copy.full_clean(validate_unique=False)
    _validate_texts(copy, languages)
    with transaction.atomic():
        _save_under_a_free_slug(copy, slug_base)
        audit.record(
            by=by,
            objects=[copy],
            message=f"Copied from {event.slug}.",
            flag=audit.ADDITION,
        )
    return copy


def _validate_texts(event: Event, languages: list[str]) -> None:
    """Raises ValidationError when a text of event is invalid in any of the languages
    (a title the new city's name made too long), saying which language."""
    errors: dict[str, list[str]] = {}
    for code in languages:
        text = event.get_translation(code)
        try:
            text.full_clean(exclude=["master"], validate_unique=False)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(
                    _("The copy's %(field)s in %(language)s: %(error)s")
                    % {
                        "field": text._meta.get_field(field).verbose_name,
                        "language": get_language_info(code)["name_translated"],
                        "error": message,
                    }
                    for message in messages
                )
    if errors:
        raise ValidationError(errors)


def _save_under_a_free_slug(event: Event, base: str) -> None:
    """Saves the new event under base, or base-2, base-3 ...: the first no other event
    has. When another event takes that slug at the same moment, the unique index
    refuses the second insert and the next free one is tried."""
    for attempt in range(SLUG_ATTEMPTS):
        event.slug = _free_slug(base)
        try:
            with transaction.atomic():  # a savepoint: a refused insert undoes itself
                event.save()
        except IntegrityError:
            taken = Event.objects.filter(slug=event.slug).exists()
            if not taken or attempt == SLUG_ATTEMPTS - 1:
                raise
            event.pk = None
        else:
            return


def _free_slug(base: str) -> str:
    slug, n = base, 2
    while Event.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def promote(*, registration: Registration, by: User | None = None) -> Registration:
    """Gives a waitlisted person a seat now, ahead of the queue: staff's choice.

    Takes a free seat when there is one; otherwise the capacity rises by one, so
    capacity still bounds the confirmed count. The person is told ("you're in").
    Raises RegistrationError when the registration is not waitlisted or the event
    has started or is cancelled.
    """
    with transaction.atomic():
        event = _lock_event(registration.event_id)
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
        if _confirmed_count(event) >= event.capacity:
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
        outbox.queue([outbox.for_registration(current, Kind.PROMOTED)])
        audit.record(by=by, objects=[current], message="Promoted from the waitlist.")
    return current


def resend_confirmation(
    *, registration: Registration, by: User | None = None
) -> Message:
    """Queues a fresh copy of the registration's confirmation (with its invitation).

    Raises RegistrationError when the registration is not confirmed.
    """
    if registration.status != Status.CONFIRMED:
        raise exceptions.RegistrationError(
            _("Only a confirmed registration has a confirmation to resend.")
        )
    message = outbox.for_registration(
        registration, Kind.CONFIRMED, key=f"resend-{uuid.uuid4().hex[:12]}"
    )
    (queued,) = outbox.queue([message])
    audit.record(by=by, objects=[registration], message="Confirmation resent.")
    return queued


def email_attendees(
    *, event: Event, subject: str, body: str, key: str, by: User | None = None
) -> int:
    """Queues one announcement (subject and body from staff) to each confirmed attendee.

    key names this announcement: sending the same key again (a double click, a
    resubmitted form), even at the same moment, queues nothing new and records
    nothing. Returns how many were queued now, and records that many by by.
    """
    with transaction.atomic():
        # Under the event's lock, a second send of the key waits for the first, then
        # counts what it queued.
        locked = _lock_event(event.pk)
        registrations = (
            Registration.objects.filter(event=locked, user__isnull=False)
            .confirmed()
            .select_related("user")
        )
        messages = [
            outbox.for_registration(
                registration,
                Kind.ANNOUNCEMENT,
                key=key,
                context={"subject": subject, "body": body},
            )
            for registration in registrations
        ]
        already = Message.objects.filter(
            dedupe_key__in=[message.dedupe_key for message in messages]
        ).count()
        outbox.queue_ignoring_duplicates(messages)
        queued = len(messages) - already
        if queued:
            audit.record(
                by=by,
                objects=[event],
                message=f"Emailed {queued} confirmed attendees: {subject}",
            )
    return queued


# Check-in ---------------------------------------------------------------------------
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


# Following a city ---------------------------------------------------------------
def follow_city(*, user: User, city) -> CitySubscription:
    """Subscribes user to news of events in city (a selectors.City). Idempotent."""
    subscription, _created = CitySubscription.objects.get_or_create(
        user=user, city_slug=city.slug, defaults={"city_name": city.name}
    )
    return subscription


def unfollow_city(*, user: User, city_slug: str) -> bool:
    """Ends the subscription; True if there was one. Idempotent."""
    deleted, _ = CitySubscription.objects.filter(
        user=user, city_slug=city_slug
    ).delete()
    return bool(deleted)


def _tell_city_followers(event: Event) -> None:
    """Each follower of the event's city hears of it once, when it is first published
    (publishing it again after a draft spell sends nothing new). Those already
    registered are not told."""
    followers = (
        CitySubscription.objects.filter(city_slug=slugify(event.city))
        .exclude(user__registrations__event=event)
        .select_related("user")
    )
    outbox.queue_ignoring_duplicates(
        [
            outbox.for_user_about_event(
                subscription.user,
                event,
                Kind.CITY_NEWS,
                key="published",
                context={"city_slug": subscription.city_slug},
            )
            for subscription in followers
            if subscription.user.is_active
        ]
    )
