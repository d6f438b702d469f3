"""Who did what, to what, when: staff actions recorded in Django's admin log.

The entries show in each object's history page in the admin, next to the admin's own
records of edits, so one place answers "who changed this".
"""

import json
from collections.abc import Iterable

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, F, Model, Value, When

__all__ = ["ADDITION", "CHANGE", "changed_fields", "record", "rename_history"]


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


def rename_history(model: type[Model], names: dict[int, str]) -> None:
    """Makes the admin history's entries about model's rows (pk -> name) carry the
    names given: the rows as they read now (an anonymised registration:
    "anonymous → event"), not as they read when the entry was made."""
    if not names:
        return
    by_id = {str(pk): name[:200] for pk, name in names.items()}
    # One UPDATE for the whole batch, not one per row.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=by_id
    ).update(
        object_repr=Case(
            *(When(object_id=pk, then=Value(name)) for pk, name in by_id.items()),
            default=F("object_repr"),
        )
    )
