"""Thin Celery wrappers: they take ids, call events.outbox or events.reminders."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from events import outbox, reminders, retention


@shared_task(
    name="events.send_message",
    soft_time_limit=settings.MAIL_SEND_SOFT_TIME_LIMIT,
    time_limit=settings.MAIL_SEND_TIME_LIMIT,
)
def send_message(*, message_id: int) -> None:
    """Delivers one message; a row that is gone or already sent is left alone."""
    outbox.deliver([message_id])


@shared_task(
    name="events.send_messages",
    soft_time_limit=settings.MAIL_SEND_SOFT_TIME_LIMIT,
    time_limit=settings.MAIL_SEND_TIME_LIMIT,
)
def send_messages(*, message_ids: list[int]) -> None:
    """Delivers a batch over one SMTP connection (reminders, event-wide news)."""
    outbox.deliver(message_ids)


@shared_task(name="events.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    return len(outbox.sweep(now=timezone.now()))


@shared_task(name="events.dispatch_reminders", ignore_result=True)
def dispatch_reminders() -> int:
    return reminders.dispatch(now=timezone.now()).queued


@shared_task(name="events.prune_outbox", ignore_result=True)
def prune_outbox() -> int:
    return outbox.prune(now=timezone.now())


@shared_task(name="events.purge_personal_data", ignore_result=True)
def purge_personal_data() -> dict[str, int]:
    """Erases attendees' personal data PERSONAL_DATA_RETENTION_DAYS after their
    event ended (events.retention.purge); safe to run twice."""
    purged = retention.purge(now=timezone.now())
    return {"registrations": purged.registrations, "messages": purged.messages}
