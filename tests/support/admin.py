"""Driving the admin as staff do: its URLs, actions, change form, and the history."""

from zoneinfo import ZoneInfo

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.timezone import localtime

from events.forms import ReminderOffsetsField


def events_url():
    return reverse("admin:events_event_changelist")


def registrations_url():
    return reverse("admin:events_registration_changelist")


def act(client, url, action, objects, **extra):
    return client.post(
        url,
        {"action": action, "_selected_action": [o.pk for o in objects], **extra},
    )


def logged(obj) -> list[str]:
    return list(
        LogEntry.objects.filter(
            object_id=str(obj.pk), content_type=ContentType.objects.get_for_model(obj)
        )
        .order_by("pk")
        .values_list("change_message", flat=True)
    )


def change_form_data(event, **changes):
    """The change form as staff submit it: times in the event's own zone."""
    starts, ends = (
        localtime(t, ZoneInfo(event.timezone)) for t in (event.starts_at, event.ends_at)
    )
    data = {
        "series": event.series_id,
        "title": event.title,
        "slug": event.slug,
        "language": event.language,
        "description": event.description,
        "city": event.city,
        "country": event.country.code,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "timezone": event.timezone,
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d"),
        "ends_at_1": ends.strftime("%H:%M:%S"),
        "registration_opens_at_0": "",
        "registration_opens_at_1": "",
        "registration_closes_at_0": "",
        "registration_closes_at_1": "",
        "capacity": event.capacity,
        "status": event.status,
        "reminder_offsets": ReminderOffsetsField().prepare_value(
            event.reminder_offsets
        ),
    }
    data.update(changes)
    return data
