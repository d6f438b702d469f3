"""Attendees' personal data does not outlive its use.

A daily task (events.purge_personal_data) erases what Turnout holds about the people
at an event PERSONAL_DATA_RETENTION_DAYS after it ended: its registrations are
detached from their accounts and its emails lose their recipient and content. The
rows stay, so the dashboard's counts, the exports' totals and the delivery log's
statistics stay right; they just no longer say who.

Erasing an account (accounts.privacy.delete_account) uses the same two steps for
that one person, at once.

The mail log is deleted outright later or earlier by notifications.upkeep.prune
(MAIL_RETENTION_DAYS, by default 400 days after the event); whichever comes first, no
address or body survives PERSONAL_DATA_RETENTION_DAYS.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.sessions import session_store
from config.audit import rename_history
from events.models import Registration
from events.tickets import new_ticket_code
from notifications.models import Message
from notifications.upkeep import erase_messages

BATCH = 1000
Status = Message.Status


@dataclass(frozen=True)
class Purged:
    """What one purge erased: rows detached or emptied, never deleted."""

    registrations: int
    messages: int


def purge(*, now: datetime) -> Purged:
    """Erases the personal data of events that ended PERSONAL_DATA_RETENTION_DAYS
    before now: their registrations lose their attendee (anonymise_registrations),
    their emails and the account emails made before then lose their recipient and
    content (erase_messages); sessions expired at now are deleted.

    Idempotent: what was erased is not found again. A message being sent right now
    is left for the next run.
    """
    cutoff = now - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    registrations = anonymise_registrations(
        Registration.objects.filter(event__ends_at__lt=cutoff, user__isnull=False)
    )
    messages = erase_messages(
        Message.objects.filter(
            Q(event__ends_at__lt=cutoff) | Q(event__isnull=True, created_at__lt=cutoff)
        )
        .filter(Q(user__isnull=False) | ~Q(to_email=""))
        .exclude(status=Status.SENDING)
    )
    _delete_expired_sessions(now)
    return Purged(registrations=registrations, messages=messages)


def anonymise_registrations(registrations: QuerySet[Registration]) -> int:
    """Detaches the registrations from their attendee; returns how many.

    The rows keep their event, status and times (the counts). Each gets a new ticket
    code, so the old one, still in the person's mailbox, no longer leads to the row;
    and the admin history's entries about it no longer name the person.
    """
    ids = list(registrations.order_by("pk").values_list("pk", flat=True))
    for batch in _batches(ids):
        with transaction.atomic():
            rows = list(
                Registration.objects.filter(pk__in=batch)
                .select_related("event")
                .prefetch_related("event__translations")
            )
            for row in rows:
                row.user = None
                row.ticket_code = new_ticket_code()
            Registration.objects.bulk_update(rows, ["user", "ticket_code"])
            rename_history(Registration, {row.pk: str(row) for row in rows})
    return len(ids)


def _delete_expired_sessions(now: datetime) -> None:
    # Django's clearsessions: without it, expired sessions (who was signed in, the
    # time zone they chose) stay in the database forever. Other engines' sessions
    # expire by themselves (cookies, cache entries).
    store = session_store()
    if hasattr(store, "get_model_class"):
        store.get_model_class().objects.filter(expire_date__lt=now).delete()


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]
