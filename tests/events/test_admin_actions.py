"""Staff actions in the admin: each calls a service and leaves a record of who did it."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checkin import services as checkin_services
from events import exceptions, exports, services
from events.messages import Kind
from events.models import Event, Registration
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.support.admin import (
    act,
    change_form_data,
    events_url,
    logged,
    registrations_url,
)

pytestmark = pytest.mark.django_db

Status = Registration.Status


def test_publish_and_unpublish_go_through_the_service_and_are_logged(
    admin_client, admin_user
):
    event = EventFactory(status=Event.Status.DRAFT)

    assert act(admin_client, events_url(), "publish", [event]).status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED

    assert act(admin_client, events_url(), "unpublish", [event]).status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT
    assert logged(event) == ["Published.", "Unpublished."]
    assert set(LogEntry.objects.values_list("user", flat=True)) == {admin_user.pk}


def test_publishing_a_cancelled_event_is_refused_with_a_message(admin_client):
    event = EventFactory(status=Event.Status.CANCELLED)

    response = act(admin_client, events_url(), "publish", [event])

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    page = admin_client.get(events_url()).content.decode()
    assert "This event has been cancelled." in page


def test_cancel_action_asks_first_then_tells_everyone_once(admin_client):
    event = EventFactory(capacity=1)
    confirmed = services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())

    asked = act(admin_client, events_url(), "cancel_events", [event])
    assert asked.status_code == 200
    assert "2 people will be told" in asked.content.decode()
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED  # nothing yet

    for _ in range(2):  # a second submit changes nothing more
        done = act(admin_client, events_url(), "cancel_events", [event], confirm="yes")
        assert done.status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    told = Message.objects.filter(kind=Kind.EVENT_CANCELLED)
    assert sorted(told.values_list("registration", flat=True)) == sorted(
        [confirmed.pk, waiting.pk]
    )
    assert logged(event) == ["Cancelled."]


def test_export_streams_every_registration_and_neutralises_formulas(admin_client):
    event = EventFactory(capacity=1, title='=HYPERLINK("http://evil")')
    alice = UserFactory(name="@SUM(A1:A9)", email="alice@example.com")
    bob = UserFactory(name="Bob", email="bob@example.com")
    services.register(event=event, user=alice)
    services.register(event=event, user=bob)

    response = act(admin_client, events_url(), "export_attendees", [event])

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == exports.header()
    assert [row[2:6] for row in rows[1:]] == [
        ["'@SUM(A1:A9)", "alice@example.com", "Confirmed", ""],
        ["Bob", "bob@example.com", "Waitlisted", "1"],
    ]
    assert {row[0] for row in rows[1:]} == {'\'=HYPERLINK("http://evil")'}
    assert logged(event) == ["Attendees exported."]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Plain", "Plain"),
        ("a=b", "a=b"),
        (None, ""),
        (7, "7"),
    ],
)
def test_neutralize_makes_formula_cells_text(value, written):
    assert exports.neutralize(value) == written


def test_registration_actions_check_in_promote_resend(admin_client, admin_user):
    # Starting in an hour: the door is open (rules.checkin_refusal).
    event = EventFactory(capacity=1, starts_at=timezone.now() + timedelta(hours=1))
    confirmed = services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())

    act(admin_client, registrations_url(), "check_in", [confirmed])
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is not None
    assert confirmed.checked_in_by == admin_user
    act(admin_client, registrations_url(), "undo_check_in", [confirmed])
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is None

    act(admin_client, registrations_url(), "promote", [waiting])
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert waiting.status == Status.CONFIRMED
    assert event.capacity == 2  # the room grew by the seat staff gave
    assert event.registrations.confirmed().count() == 2

    act(admin_client, registrations_url(), "resend_confirmation", [confirmed])
    confirmations = Message.objects.filter(registration=confirmed, kind=Kind.CONFIRMED)
    assert confirmations.count() == 2
    assert logged(confirmed) == [
        "Checked in.",
        "Check-in undone.",
        "Confirmation resent.",
    ]
    assert logged(waiting) == ["Promoted from the waitlist."]


def test_promote_takes_a_free_seat_without_growing_the_room():
    event = EventFactory(capacity=1)
    # A free seat with someone waiting (as left by an outage of the promotion).
    waiting = Registration.objects.create(
        event=event,
        user=UserFactory(),
        status=Status.WAITLISTED,
        waitlisted_at=timezone.now(),
    )

    services.promote(registration=waiting)

    event.refresh_from_db()
    assert event.capacity == 1
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED
    with pytest.raises(exceptions.RegistrationError):
        services.promote(registration=waiting)  # no longer waiting


def test_event_page_lists_its_registrations_in_queries_that_do_not_grow(
    admin_client,
):
    event = EventFactory(capacity=1)
    services.register(event=event, user=UserFactory(name="Ada Lovelace"))
    services.register(event=event, user=UserFactory(name="Grace Hopper"))
    url = reverse("admin:events_event_change", args=[event.pk])

    def page_queries():
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(url)
        return page.content.decode(), len(captured)

    content, few = page_queries()
    assert content.index("Ada Lovelace") < content.index("Grace Hopper")
    assert "?event__id__exact=" in content
    for _ in range(10):
        services.register(event=event, user=UserFactory())
    content, many = page_queries()
    assert content.count("/admin/events/registration/") >= 12
    assert many == few


def test_event_change_list_queries_do_not_grow_from_5_to_500_events(admin_client):
    def list_queries():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(events_url())
            assert response.status_code == 200
        return len(captured), response.context["cl"].result_count

    template = EventFactory.build()
    now = timezone.now()

    def make(n, start):
        Event.objects.bulk_create(
            Event(
                series=template.series if template.series.pk else None,
                title=f"Stop {i}",
                slug=f"stop-{start + i}",
                city=f"City {i % 7}",
                country="US",
                venue_name="Hall",
                venue_address="Street",
                timezone="America/Los_Angeles",
                starts_at=now + timedelta(days=i + 1),
                ends_at=now + timedelta(days=i + 1, hours=2),
                capacity=10,
                status=Event.Status.PUBLISHED,
            )
            for i in range(n)
        )

    EventFactory()  # saves the series
    Event.objects.all().delete()
    template = EventFactory(slug="first")
    make(4, 0)
    small, counted = list_queries()
    assert counted == 5
    make(495, 1000)
    large, counted = list_queries()
    assert counted == 500
    assert large == small


def test_registration_filters_and_search(admin_client):
    # Starting in an hour: the door is open (rules.checkin_refusal).
    event = EventFactory(capacity=1, starts_at=timezone.now() + timedelta(hours=1))
    ada = services.register(event=event, user=UserFactory(name="Ada Lovelace"))
    services.register(event=event, user=UserFactory(name="Grace Hopper"))
    checkin_services.check_in(event=event, code=ada.ticket_code, by=None)

    def shown(**params):
        response = admin_client.get(registrations_url(), params)
        return [r.user.name for r in response.context["cl"].result_list]

    assert shown(checked_in="yes") == ["Ada Lovelace"]
    assert shown(checked_in="no") == ["Grace Hopper"]
    assert shown(status__exact="waitlisted") == ["Grace Hopper"]
    assert shown(q="lovelace") == ["Ada Lovelace"]
    assert shown(q=ada.user.email) == ["Ada Lovelace"]


def test_event_filters_city_and_when(admin_client):
    now = timezone.now()
    EventFactory(city="Tokyo", title="Tokyo stop")
    EventFactory(
        city="Paris",
        title="Past Paris",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=3) + timedelta(hours=2),
    )

    def shown(**params):
        response = admin_client.get(events_url(), params)
        return [e.title for e in response.context["cl"].result_list]

    assert shown(city="Tokyo") == ["Tokyo stop"]
    assert shown(when="past") == ["Past Paris"]
    assert shown(when="upcoming") == ["Tokyo stop"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Nowhere/Land"}, "Select a valid choice."),
        ({"ends_at_0": "2000-01-01"}, "The event must end after it starts."),
        ({"capacity": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"slug": "not a slug!"}, "Enter a valid “slug”"),
    ],
)
def test_event_form_explains_bad_input(admin_client, changes, message):

    event = EventFactory()
    before = Event.objects.values().get(pk=event.pk)

    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, **changes),
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Event.objects.values().get(pk=event.pk) == before


def test_change_form_cannot_undo_a_cancellation(admin_client):

    event = EventFactory(status=Event.Status.CANCELLED)

    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, status=Event.Status.PUBLISHED),
    )

    assert response.status_code == 200
    assert "A cancelled event stays cancelled" in response.content.decode()
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED


def test_change_form_publishes_through_the_service(admin_client, admin_user):

    event = EventFactory(status=Event.Status.DRAFT)

    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, status=Event.Status.PUBLISHED),
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED
    assert "Published." in logged(event)


def test_cancel_action_with_select_all_cancels_every_page(admin_client):
    template = EventFactory()
    Event.objects.filter(pk=template.pk).delete()
    for n in range(101):  # the list shows 100 a page
        EventFactory(series=template.series, title=f"Stop {n}")

    asked = admin_client.post(
        events_url(),
        {
            "action": "cancel_events",
            "select_across": "1",
            "index": "0",
            "_selected_action": list(Event.objects.values_list("pk", flat=True)[:100]),
        },
    )
    assert asked.status_code == 200
    confirm = {
        "action": "cancel_events",
        "confirm": "yes",
        "select_across": asked.context["select_across"] and "1" or "0",
        "index": "0",
        "_selected_action": asked.context["selected"],
    }
    assert admin_client.post(events_url(), confirm).status_code == 302
    assert Event.objects.exclude(status=Event.Status.CANCELLED).count() == 0


def test_registrations_on_the_event_page_need_view_registration(client):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_event"),
        Permission.objects.get(codename="change_event"),
    )
    event = EventFactory()
    services.register(event=event, user=UserFactory(name="Ada Lovelace"))
    client.force_login(staff)

    page = client.get(reverse("admin:events_event_change", args=[event.pk]))

    assert page.status_code == 200
    assert "Ada Lovelace" not in page.content.decode()
    preview = client.get(reverse("admin:notifications_message_preview"))
    assert preview.status_code == 403
