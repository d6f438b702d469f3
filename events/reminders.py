"""Reminders: found by a scan that beat runs every minute, never scheduled as ETA tasks.

Each reminder is one (registration, offset) and is claimed by inserting its Message
row: the unique dedupe key lets exactly one of two dispatchers running at once insert
it. Due times are computed from the event's start at each scan, and moving an event
withdraws the reminders not yet sent (services.update_event_details), so they follow
the new time; one already sent is not sent again.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat

from events.messages import Kind, for_registration
from events.models import Event, Registration
from events.rules import reminder_refusal
from notifications import outbox
from notifications.models import Message

logger = logging.getLogger(__name__)

# How long after the start an event is still scanned, to record the reminders that an
# outage of beat or the workers kept from going out.
LOOKBACK = timedelta(days=1)
LONGEST_OFFSET = timedelta(days=60)


@dataclass
class Dispatched:
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


def due_at(event: Event, minutes: int) -> datetime:
    """When the reminder ``minutes`` before the event's start falls due.

    Whole days count on the venue's calendar, as nominal days do in RFC 5545: the
    "1 day before" reminder of a 10:00 event goes out at 10:00 the day before, local
    time, even when a daylight-saving change falls in between (24 hours would make
    it 09:00 or 11:00). What is left over is an exact duration: "2 hours before" is
    two hours of real time before the start, across a change too.
    """
    days, rest = divmod(minutes, 24 * 60)
    start = event.starts_at.astimezone(event.zone)
    if days:
        wall = start.replace(tzinfo=None) - timedelta(days=days)
        start = wall.replace(tzinfo=event.zone)
    return start.astimezone(UTC) - timedelta(minutes=rest)


def _label(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} day(s)"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour(s)"
    return f"{minutes} minute(s)"


def dispatch(*, now: datetime) -> Dispatched:
    """Queues the reminders that are due at now, once each; records what it skips.

    Who gets one is rules.reminder_refusal's to say, at the reminder's due time:
    confirmed attendees who want reminders and were confirmed by then (someone
    confirmed the same day gets no "1 day before"), of a published event. When beat
    or the workers were down and several reminders of one event fell due, only the
    one nearest the start goes out; the others are recorded as skipped with the
    reason, as are those whose event started before they could be sent.
    """
    result = Dispatched()
    # Narrowed to events the rule can accept: published, in the reminders' reach.
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED,
        starts_at__gt=now - LOOKBACK,
        # A day's slack: nominal days may fall due an hour early (see due_at).
        starts_at__lte=now + LONGEST_OFFSET + timedelta(days=1),
    )
    for event in events:
        due = sorted(
            (
                minutes
                for minutes in set(event.reminder_offsets)
                if due_at(event, minutes) <= now
            ),
        )
        if not due:
            continue
        started = event.starts_at <= now
        for minutes in due:
            if started:
                reason = "The event started before this reminder was sent."
            elif minutes != due[0]:
                reason = (
                    f"Superseded: the {_label(due[0])} reminder was due too "
                    "(beat or the workers were down)."
                )
            else:
                reason = ""
            _claim(event, minutes, reason=reason, result=result)
    if result.queued or result.skipped:
        logger.info("Reminders: %d queued, skipped %s", result.queued, result.skipped)
    return result


def _claim(event: Event, minutes: int, *, reason: str, result: Dispatched) -> None:
    """Queues (or, with a reason, records as skipped) the reminder minutes before
    event for each registration rules.reminder_refusal accepts at its due time."""
    due = due_at(event, minutes)
    key_suffix = f":reminder:{minutes}"
    already = Message.objects.filter(
        dedupe_key=Concat(
            Value("reg:"),
            Cast(OuterRef("pk"), CharField()),
            Value(key_suffix),
            output_field=CharField(),
        )
    )
    # The query only narrows (the rule accepts no one unconfirmed); the rule decides.
    candidates = (
        Registration.objects.filter(event=event)
        .confirmed()
        .exclude(Exists(already))
        .select_related("user")
    )
    messages = []
    for registration in candidates.iterator(chunk_size=2000):
        registration.event = event
        if reminder_refusal(registration, at=due):
            continue
        message = for_registration(
            registration,
            Kind.REMINDER,
            key=str(minutes),
            context={"offset": minutes, "due_at": due.isoformat()},
        )
        if reason:
            message.status = Message.Status.SKIPPED
            message.last_error = reason
        messages.append(message)
    if not messages:
        return
    if reason:
        Message.objects.bulk_create(messages, ignore_conflicts=True, batch_size=1000)
        result.skipped[reason] = result.skipped.get(reason, 0) + len(messages)
    else:
        result.queued += len(outbox.queue_ignoring_duplicates(messages))
