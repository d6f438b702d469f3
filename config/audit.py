"""Who did what, to what, when: staff actions recorded in Django's admin log.

The entries show in each object's history page in the admin, next to the admin's own
records of edits, so one place answers "who changed this".
"""

import json
from collections.abc import Iterable

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import models

__all__ = ["ADDITION", "CHANGE", "changed_fields", "record"]


def record(
    *, by, objects: Iterable[models.Model], message: str, flag: int = CHANGE
) -> None:
    """Adds one log entry per object, by the given user, with a readable message."""
    objects = list(objects)
    if by is None or not objects:
        return
    LogEntry.objects.log_actions(by.pk, objects, flag, change_message=message)


def changed_fields(labels: Iterable[str]) -> str:
    """A message naming the fields that changed, in the form Django's admin stores
    its own (so the history page shows it in the reader's language)."""
    return json.dumps([{"changed": {"fields": list(labels)}}])
