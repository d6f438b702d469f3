"""Upkeep of the outbox, run by beat: the sweeper hands over again what Celery lost,
and pruning deletes the delivery log once it is old.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from config.audit import rename_history
from notifications.delivery import ERASED_RECIPIENT
from notifications.models import Message
from notifications.outbox import hand_over

logger = logging.getLogger(__name__)

Status = Message.Status


def sweep(*, now: datetime) -> list[int]:
    """Hands over again what Celery lost: never handed over, overdue, or stuck sending.

    A worker killed mid-send leaves its row in sending; after MAIL_STUCK_AFTER_SECONDS
    (longer than a send may take) it is sent again. Returns the ids handed over.
    """
    stuck = now - timedelta(seconds=settings.MAIL_STUCK_AFTER_SECONDS)
    never = now - timedelta(seconds=settings.MAIL_HAND_OVER_GRACE_SECONDS)
    overdue = now - timedelta(seconds=settings.MAIL_REQUEUE_AFTER_SECONDS)
    ids = list(
        Message.objects.filter(
            Q(status=Status.QUEUED, enqueued_at__isnull=True, created_at__lt=never)
            | Q(status=Status.QUEUED, next_attempt_at__lt=overdue)
            | Q(status=Status.SENDING, sending_since__lt=stuck)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:10_000]
    )
    if ids:
        Message.objects.filter(pk__in=ids, status=Status.QUEUED).update(
            next_attempt_at=now
        )
        logger.info("Sweeper hands %d message(s) to Celery again.", len(ids))
        hand_over(ids)
    return ids


# Pruning -------------------------------------------------------------------------
PRUNE_BATCH = 5000


_age_rules: list[Callable[[datetime], tuple[Q, Q]]] = []


def age_by(rule: Callable[[datetime], tuple[Q, Q]]) -> None:
    """Registers how some messages age: rule(cutoff) gives (which messages it is
    for, which of those are old). events: a message about an event is old once the
    event ended before the cutoff, so its dedupe keys stop a second send while the
    event is recent. Any other message is old once made before the cutoff."""
    _age_rules.append(rule)


def prune(*, now: datetime) -> int:
    """Deletes the delivery log older than MAIL_RETENTION_DAYS (as age_by rules
    tell, else by when each message was made): finished messages only (sent,
    failed, skipped); nothing queued or sending is touched. Deletes in short
    batches; returns how many rows went.
    """
    cutoff = now - timedelta(days=settings.MAIL_RETENTION_DAYS)
    finished = Message.objects.filter(
        status__in=[Status.SENT, Status.FAILED, Status.SKIPPED]
    )
    ruled, old = Q(pk__in=[]), Q(pk__in=[])
    for rule in _age_rules:
        applies, aged = rule(cutoff)
        ruled |= applies
        old |= applies & aged
    old = finished.filter(old | (~ruled & Q(created_at__lt=cutoff)))
    deleted = 0
    while True:
        batch = list(old.values_list("pk", flat=True)[:PRUNE_BATCH])
        if not batch:
            return deleted
        deleted += Message.objects.filter(pk__in=batch).delete()[0]


# Erasing ----------------------------------------------------------------------------
ERASE_BATCH = 1000


def erase_messages(messages: QuerySet[Message]) -> int:
    """Empties the messages of their recipient; returns how many.

    Gone: the account, address, language, bodies, invitation, headers (the
    unsubscribe link names the account), details, dedupe key (it may name the
    account) and any delivery error (a refusal quotes the address). Kind, status,
    subject and times stay. A queued message is skipped with the reason; one a
    worker is sending now may still go out. The admin history's entries about them
    no longer name the address.
    """
    ids = list(messages.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), ERASE_BATCH):
        batch = ids[start : start + ERASE_BATCH]
        rows = Message.objects.filter(pk__in=batch)
        with transaction.atomic():
            rows.update(
                user=None,
                to_email="",
                language="",
                body_text="",
                body_html="",
                ics="",
                headers={},
                context={},
                dedupe_key=None,
            )
            # Skip reasons are ours and name nobody; other errors may quote the
            # address.
            rows.exclude(status=Status.SKIPPED).update(last_error="")
            rows.filter(status=Status.QUEUED).update(
                status=Status.SKIPPED,
                last_error=ERASED_RECIPIENT,
                next_attempt_at=None,
            )
            # An entry about a message ("Resent.") was named by its address.
            rename_history(
                Message, {row.pk: str(row) for row in rows.only("kind", "to_email")}
            )
    return len(ids)
