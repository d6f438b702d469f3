"""The admin is one more path to capacity: it goes through the services too."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.timezone import localtime

from accounts.messages import ACCOUNT
from cities.messages import CITY_NEWS
from events import services
from events.messages import Kind
from events.models import Event, Registration
from notifications import kinds
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.support.admin import change_form_data

pytestmark = pytest.mark.django_db

Status = Registration.Status


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


def test_admin_saving_other_fields_never_writes_capacity(admin_client):
    # A save that leaves capacity alone must not write back the capacity it read:
    # set_capacity may have changed it in the meantime.
    event = EventFactory(capacity=5)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.post(
            reverse("admin:events_event_change", args=[event.pk]),
            change_form_data(event, title="Renamed"),
        )
    assert response.status_code == 302
    updates = [
        q["sql"] for q in captured if q["sql"].startswith('UPDATE "events_event"')
    ]
    assert len(updates) == 1
    assert '"capacity"' not in updates[0]
    # The save did write: the title lives in the translations table (parler).
    titles = [
        q["sql"]
        for q in captured
        if q["sql"].startswith('UPDATE "events_event_translation"')
    ]
    assert len(titles) == 1 and "'Renamed'" in titles[0]


def test_admin_times_are_entered_in_the_events_own_zone(admin_client):
    event = EventFactory(timezone="America/Los_Angeles")
    data = change_form_data(
        event,
        timezone="Asia/Tokyo",
        starts_at_0="2099-03-06",
        starts_at_1="18:00:00",
        ends_at_0="2099-03-06",
        ends_at_1="21:00:00",
    )
    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]), data
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.starts_at == datetime(2099, 3, 6, 9, 0, tzinfo=UTC)
    response = admin_client.get(reverse("admin:events_event_change", args=[event.pk]))
    assert response.context["adminform"].form["starts_at"].value() == datetime(
        2099, 3, 6, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo")
    )


def test_admin_change_list_shows_the_local_start(admin_client):
    EventFactory(
        timezone="Asia/Tokyo",
        starts_at=datetime(2099, 3, 6, 9, 0, tzinfo=UTC),
        ends_at=datetime(2099, 3, 6, 12, 0, tzinfo=UTC),
    )
    content = admin_client.get(
        reverse("admin:events_event_changelist")
    ).content.decode()
    assert "Fri, March 6, 2099, 6 p.m. JST" in content


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
    assert list(response.context["adminform"].form.errors) == ["timezone"]
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


def test_admin_moving_an_event_tells_its_attendees_once(admin_client):
    event = EventFactory(capacity=1)
    confirmed = services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())
    local = localtime(event.starts_at, ZoneInfo(event.timezone))

    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(
            event,
            starts_at_1=(local.replace(hour=(local.hour + 1) % 24)).strftime(
                "%H:%M:%S"
            ),
            venue_name="A bigger hall",
        ),
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.venue_name, event.sequence) == ("A bigger hall", 1)
    told = Message.objects.filter(event=event, kind=Kind.EVENT_CHANGED)
    assert sorted(told.values_list("registration_id", flat=True)) == sorted(
        [confirmed.pk, waiting.pk]
    )
    assert told.first().context["previous"]["venue_name"] == "Moscone Center West"


def test_admin_setting_status_cancelled_cancels_through_the_service(admin_client):
    event = EventFactory()
    registration = services.register(event=event, user=UserFactory())

    admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, status="cancelled"),
    )

    event.refresh_from_db()
    assert (event.status, event.sequence) == (Event.Status.CANCELLED, 1)
    assert (
        Message.objects.filter(
            registration=registration, kind=Kind.EVENT_CANCELLED
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("24, 2", [1440, 120]), ("0.5; 48h", [2880, 30]), ("", [])],
)
def test_admin_reminder_times_are_typed_in_hours(admin_client, typed, saved):
    event = EventFactory()
    admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, reminder_offsets=typed),
    )
    event.refresh_from_db()
    assert event.reminder_offsets == saved


@pytest.mark.parametrize("typed", ["soon", "0", "2000", "nan", "1e999999"])
def test_admin_reminder_times_reject_nonsense_with_a_message(admin_client, typed):
    event = EventFactory()
    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, reminder_offsets=typed),
    )
    assert response.status_code == 200
    assert "reminder" in response.content.decode().lower()
    event.refresh_from_db()
    assert event.reminder_offsets == [1440, 120]


def test_admin_message_log_lists_and_resends(admin_client):
    registration = services.register(event=EventFactory(), user=UserFactory())
    message = Message.objects.get(registration=registration)

    page = admin_client.get(reverse("admin:notifications_message_changelist"))
    assert registration.user.email in page.content.decode()
    response = admin_client.post(
        reverse("admin:notifications_message_changelist"),
        {"action": "resend", "_selected_action": [message.pk]},
    )

    assert response.status_code == 302
    copy = Message.objects.get(resend_of=message)
    assert (copy.kind, copy.status, copy.dedupe_key) == ("confirmed", "queued", None)


def test_admin_previews_every_template(admin_client):
    response = admin_client.get(reverse("admin:notifications_message_preview"))
    content = response.content.decode()
    assert response.status_code == 200
    registered = kinds.registered()
    assert {kind.name for kind in registered} == {*Kind.values, CITY_NEWS, ACCOUNT}
    for kind in registered:
        if kind.name != ACCOUNT:
            assert str(kind.label) in content
    assert "BEGIN:VCALENDAR" in content
    # Each email's HTML sits whole inside its frame's srcdoc (escaped), for every kind.
    frames = content.count('srcdoc="&lt;!DOCTYPE html&gt;')
    assert frames == len(registered) - 1  # all but account emails
    # The confirmation's QR code shows in the browser: inlined, not a cid: URL.
    assert "data:image/png;base64," in content
    assert "cid:ticket-" not in content
    assert not Message.objects.exists()


def test_admin_change_form_shows_the_times_in_the_events_own_zone(admin_client):
    event = EventFactory(
        timezone="America/Los_Angeles",
        starts_at=datetime(2099, 12, 5, 2, 0, tzinfo=UTC),  # 6 p.m. PST the day before
        ends_at=datetime(2099, 12, 5, 5, 0, tzinfo=UTC),
    )

    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk]))

    content = page.content.decode()
    assert 'name="starts_at_0" value="2099-12-04"' in content
    assert 'name="starts_at_1" value="18:00:00"' in content


def test_admin_saving_an_untouched_event_tells_nobody_and_keeps_the_sequence(
    admin_client,
):
    # The browser sends a textarea's line breaks as \r\n; the stored address has \n.
    event = EventFactory(venue_address="800 Howard St\nSan Francisco, CA 94103")
    services.register(event=event, user=UserFactory())
    queued = list(Message.objects.values_list("pk", flat=True))

    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(
            event, venue_address="800 Howard St\r\nSan Francisco, CA 94103"
        ),
    )

    assert response.status_code == 302
    assert list(Message.objects.values_list("pk", flat=True)) == queued
    event.refresh_from_db()
    assert (event.sequence, event.venue_address) == (
        0,
        "800 Howard St\nSan Francisco, CA 94103",
    )


def test_admin_records_what_changed_once(admin_client, admin_user):
    from django.contrib.admin.models import LogEntry

    event = EventFactory(capacity=5)

    admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, capacity=6, venue_name="A bigger hall"),
    )

    (entry,) = LogEntry.objects.filter(object_id=str(event.pk))
    assert entry.user == admin_user
    assert entry.get_change_message() == "Changed Venue and Capacity."


def test_admin_added_event_gets_the_default_reminders(admin_client):
    series = EventFactory().series
    add = reverse("admin:events_event_add")
    shown = admin_client.get(add).context["adminform"].form
    data = {
        "series": series.pk,
        "title": "Turnout Lisbon",
        "slug": "turnout-lisbon",
        "language": "en",
        "description": "",
        "city": "Lisbon",
        "country": "PT",
        "venue_name": "LX Factory",
        "venue_address": "Rua Rodrigues de Faria 103\r\nLisboa",
        "timezone": "Europe/Lisbon",
        "starts_at_0": "2099-05-06",
        "starts_at_1": "18:00:00",
        "ends_at_0": "2099-05-06",
        "ends_at_1": "21:00:00",
        "registration_opens_at_0": "",
        "registration_opens_at_1": "",
        "registration_closes_at_0": "",
        "registration_closes_at_1": "",
        "capacity": 80,
        "status": Event.Status.DRAFT,
        # What the browser submits: the field as the add form shows it.
        "reminder_offsets": shown["reminder_offsets"].value() or "",
    }

    response = admin_client.post(add, data)

    assert response.status_code == 302
    assert Event.objects.get(slug="turnout-lisbon").reminder_offsets == [1440, 120]
