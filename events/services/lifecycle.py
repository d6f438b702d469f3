"""An event's life as staff run it: change (time, venue, capacity, texts, status),
publish, unpublish, cancel, duplicate. Each change takes the event's lock
(registrations.lock_event) and tells the attendees who should hear of it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import get_language_info, override
from django.utils.translation import gettext as _

from accounts.models import User
from config import audit
from events import exceptions, signals
from events.messages import Kind, for_registration
from events.models import Event, Registration
from events.services.registrations import lock_event, set_capacity
from notifications import outbox
from notifications.models import Message

DETAIL_FIELDS = ("starts_at", "ends_at", "venue_name", "venue_address")
# What change_event never saves as a plain field: each has its service, or is the
# services' own bookkeeping.
SERVICE_FIELDS = frozenset(
    {"id", "capacity", "status", "sequence", "published_at", *DETAIL_FIELDS}
)


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
        locked = lock_event(event.pk)
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
        locked = lock_event(event.pk)
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
        locked = lock_event(event.pk)
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
            for_registration(
                registration, kind, key=str(event.sequence), context=context
            )
            for registration in registrations.select_related("user")
        ]
    )


def publish_event(*, event: Event, by: User | None = None) -> Event:
    """Makes a draft event public. Idempotent; a cancelled event stays cancelled."""
    return _set_status(event, Event.Status.PUBLISHED, by=by, message="Published.")


def unpublish_event(*, event: Event, by: User | None = None) -> Event:
    """Takes a published event back to draft: its page and sign-ups close to the
    public. Registrations stay as they are, and come back with the event."""
    return _set_status(event, Event.Status.DRAFT, by=by, message="Unpublished.")


def _set_status(event: Event, status: str, *, by, message: str) -> Event:
    with transaction.atomic():
        locked = lock_event(event.pk)
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
                # In this transaction: whoever listens (a city's followers) is told
                # exactly when the event becomes public, or not at all.
                signals.event_published.send(sender=Event, event=locked)
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
