"""The door, as tests set it up: volunteers, an event whose door is open, codes."""

from datetime import timedelta

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from tests.factories import EventFactory, UserFactory

VOLUNTEERS = "Check-in volunteers"
JSON = {"HTTP_ACCEPT": "application/json"}


def make_volunteer(**fields):
    """A user in the "Check-in volunteers" group: not staff, only events.check_in.

    The group comes from migration 0005; transactional tests flush it, so it is
    made again here when missing.
    """
    group, _ = Group.objects.get_or_create(name=VOLUNTEERS)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="events", codename="check_in")
    )
    user = UserFactory(**fields)
    user.groups.add(group)
    return user


def other_code(code: str) -> str:
    """The code with its last character changed to another valid one."""
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def grouped(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def local_hhmm(moment, event) -> str:
    local = moment.astimezone(event.zone)
    return f"{local:%H:%M} {local.tzname()}"


def at_the_door(**fields):
    """An event starting in an hour: its door is open (rules.checkin_refusal)."""
    return EventFactory(starts_at=timezone.now() + timedelta(hours=1), **fields)
