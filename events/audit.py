"""Who did what, to what, when: staff actions recorded in Django's admin log.

The entries show in each object's history page in the admin, next to the admin's own
records of edits, so one place answers "who changed this".
"""

from collections.abc import Iterable

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import models

__all__ = ["ADDITION", "CHANGE", "record"]


def record(
    *, by, objects: Iterable[models.Model], message: str, flag: int = CHANGE
) -> None:
    """Adds one log entry per object, by the given user, with a readable message."""
    objects = list(objects)
    if by is None or not objects:
        return
    LogEntry.objects.log_actions(by.pk, objects, flag, change_message=message)
