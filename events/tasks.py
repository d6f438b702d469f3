"""Thin Celery wrappers around the reminder scan and the retention purge."""

from celery import shared_task
from django.utils import timezone

from events import reminders, retention


@shared_task(name="events.dispatch_reminders", ignore_result=True)
def dispatch_reminders() -> int:
    return reminders.dispatch(now=timezone.now()).queued


@shared_task(name="events.purge_personal_data", ignore_result=True)
def purge_personal_data() -> dict[str, int]:
    """Erases attendees' personal data PERSONAL_DATA_RETENTION_DAYS after their
    event ended (events.retention.purge); safe to run twice."""
    purged = retention.purge(now=timezone.now())
    return {"registrations": purged.registrations, "messages": purged.messages}
