"""Thin Celery wrappers around delivery and upkeep: they take ids, re-read the rows."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications import delivery, upkeep

MAIL_QUEUE = (
    "mail"  # email has a queue of its own: a slow mail server delays no other work
)


@shared_task(
    name="notifications.send_message",
    queue=MAIL_QUEUE,
    soft_time_limit=settings.MAIL_SEND_SOFT_TIME_LIMIT,
    time_limit=settings.MAIL_SEND_TIME_LIMIT,
)
def send_message(*, message_id: int) -> None:
    """Delivers one message; a row that is gone or already sent is left alone."""
    delivery.deliver([message_id])


@shared_task(
    name="notifications.send_messages",
    queue=MAIL_QUEUE,
    soft_time_limit=settings.MAIL_SEND_SOFT_TIME_LIMIT,
    time_limit=settings.MAIL_SEND_TIME_LIMIT,
)
def send_messages(*, message_ids: list[int]) -> None:
    """Delivers a batch over one SMTP connection (reminders, event-wide news)."""
    delivery.deliver(message_ids)


@shared_task(name="notifications.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    return len(upkeep.sweep(now=timezone.now()))


@shared_task(name="notifications.prune_outbox", ignore_result=True)
def prune_outbox() -> int:
    return upkeep.prune(now=timezone.now())
