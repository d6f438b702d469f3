"""The admin is one more path to capacity: it goes through the services too."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import services
from events.models import Event, Registration
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status


def change_form_data(event, **changes):
    data = {
        "series": event.series_id,
        "title": event.title,
        "slug": event.slug,
        "description": event.description,
        "city": event.city,
        "country": event.country.code,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "timezone": event.timezone,
        "starts_at_0": event.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": event.starts_at.strftime("%H:%M:%S"),
        "ends_at_0": event.ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": event.ends_at.strftime("%H:%M:%S"),
        "registration_opens_at_0": "",
        "registration_opens_at_1": "",
        "registration_closes_at_0": "",
        "registration_closes_at_1": "",
        "capacity": event.capacity,
        "status": event.status,
    }
    data.update(changes)
    return data


def test_admin_raising_capacity_promotes_from_the_waitlist(admin_client):
    event = EventFactory(capacity=1)
    confirmed, first, second = (
        services.register(event=event, user=UserFactory()) for _ in "abc"
    )
    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, capacity=2, title="Renamed"),
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.capacity, event.title) == (2, "Renamed")
    assert [
        Registration.objects.get(pk=r.pk).status for r in (confirmed, first, second)
    ] == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED]


def test_admin_lowering_capacity_below_confirmed_is_a_form_error(admin_client):
    event = EventFactory(capacity=5)
    for _ in range(3):
        services.register(event=event, user=UserFactory())
    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, capacity=2),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["capacity"] == [
        "3 people are already confirmed, so capacity cannot go below 3. "
        "Cancel registrations first."
    ]
    assert Event.objects.get(pk=event.pk).capacity == 5


def test_admin_rejects_an_unknown_time_zone(admin_client):
    event = EventFactory()
    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, timezone="Europe/Atlantis"),
    )
    assert response.status_code == 200
    assert "timezone" in response.context["adminform"].form.errors
    assert Event.objects.get(pk=event.pk).timezone == "America/Los_Angeles"


def test_admin_cannot_add_or_delete_registrations(admin_client):
    registration = services.register(event=EventFactory(), user=UserFactory())
    assert admin_client.get(reverse("admin:events_registration_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:events_registration_delete", args=[registration.pk]),
            {"post": "yes"},
        ).status_code
        == 403
    )
    assert Registration.objects.get(pk=registration.pk).status == Status.CONFIRMED


def test_admin_cancel_action_promotes_the_waitlist(admin_client):
    event = EventFactory(capacity=1)
    confirmed, waiting = (
        services.register(event=event, user=UserFactory()) for _ in "ab"
    )
    response = admin_client.post(
        reverse("admin:events_registration_changelist"),
        {"action": "cancel_registrations", "_selected_action": [confirmed.pk]},
    )
    assert response.status_code == 302
    assert Registration.objects.get(pk=confirmed.pk).status == Status.CANCELLED
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED


def test_admin_event_list_runs_the_same_queries_for_2_and_12_events(admin_client):
    def list_queries():
        with CaptureQueriesContext(connection) as captured:
            assert (
                admin_client.get(reverse("admin:events_event_changelist")).status_code
                == 200
            )
        return len(captured)

    for _ in range(2):
        services.register(event=EventFactory(), user=UserFactory())
    small = list_queries()
    for _ in range(10):
        services.register(event=EventFactory(), user=UserFactory())
    assert list_queries() == small
