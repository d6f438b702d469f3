"""What staff send attendees beyond the automatic emails: announcements, resends."""

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from config import audit
from events import exceptions
from events.messages import Kind, for_registration
from events.models import Event, Registration
from events.services.registrations import lock_event
from notifications import outbox
from notifications.models import Message

Status = Registration.Status


def resend_confirmation(
    *, registration: Registration, by: User | None = None
) -> Message:
    """Queues a fresh copy of the registration's confirmation (with its invitation
    and ticket), through the outbox's resend; a new one if the log no longer has it.

    Raises RegistrationError when the registration is not confirmed.
    """
    if registration.status != Status.CONFIRMED:
        raise exceptions.RegistrationError(
            _("Only a confirmed registration has a confirmation to resend.")
        )
    latest = (
        Message.objects.filter(
            registration=registration, kind__in=[Kind.CONFIRMED, Kind.PROMOTED]
        )
        .select_related("user")
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is not None:
        # One way to resend, the outbox's: a copy of it, rendered anew.
        queued = outbox.resend(latest)
    else:  # its confirmation was pruned from the log: a new one
        message = for_registration(
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
        locked = lock_event(event.pk)
        registrations = (
            Registration.objects.filter(event=locked, user__isnull=False)
            .confirmed()
            .select_related("user")
        )
        messages = [
            for_registration(
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
