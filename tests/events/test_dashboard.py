"""The staff dashboard on the admin index: upcoming events, and sign-ups per day."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone
from pytest_django.asserts import assertContains, assertNotContains

from events import dashboard
from events.dashboard import Bar, BarChart, EventFill
from events.models import Event, Registration
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status
NOW = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
BAR_TITLE = re.compile(r'<rect class="bar"[^>]*><title>([^<]*)</title></rect>')


def registration(*, event, status=Status.CONFIRMED, created_at=None, **fields):
    """A registration in status; created_at overrides the auto_now_add time."""
    times = {
        Status.CONFIRMED: "confirmed_at",
        Status.WAITLISTED: "waitlisted_at",
        Status.CANCELLED: "cancelled_at",
    }
    fields.setdefault(times[status], NOW)
    made = RegistrationFactory(event=event, status=status, **fields)
    if created_at is not None:
        Registration.objects.filter(pk=made.pk).update(created_at=created_at)
    return made


def event_at(starts_at, **fields):
    return EventFactory(
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=3), **fields
    )


def bar_titles(day_counts):
    """The tooltips the chart gives its bars, for (day, count) pairs."""
    return [
        f"{formats.date_format(day, 'DATE_FORMAT')}: {count} "
        + ("sign-up" if count == 1 else "sign-ups")
        for day, count in day_counts
    ]


def test_upcoming_lists_published_and_draft_events_not_ended_soonest_first():
    later = event_at(NOW + timedelta(days=9), capacity=4)
    draft = event_at(NOW + timedelta(days=2), capacity=0, status=Event.Status.DRAFT)
    running = event_at(NOW - timedelta(hours=1), capacity=3)
    event_at(NOW + timedelta(days=1), status=Event.Status.CANCELLED)
    event_at(NOW - timedelta(hours=4))
    for _ in range(3):
        registration(event=later, checked_in_at=NOW)
    registration(event=later, status=Status.WAITLISTED)
    registration(event=later, status=Status.CANCELLED)
    for _ in range(2):
        registration(event=running)

    assert dashboard.upcoming(now=NOW) == [
        EventFill(
            event=running,
            confirmed=2,
            capacity=3,
            waitlisted=0,
            checked_in=0,
            fill_percent=66,
        ),
        EventFill(
            event=draft,
            confirmed=0,
            capacity=0,
            waitlisted=0,
            checked_in=0,
            fill_percent=0,
        ),
        EventFill(
            event=later,
            confirmed=3,
            capacity=4,
            waitlisted=1,
            checked_in=3,
            fill_percent=75,
        ),
    ]


def test_upcoming_stops_at_limit():
    events = [event_at(NOW + timedelta(days=day)) for day in (3, 1, 2)]

    assert [item.event for item in dashboard.upcoming(now=NOW, limit=2)] == [
        events[1],
        events[2],
    ]


def test_signups_per_day_counts_each_day_in_the_zone():
    event = event_at(NOW + timedelta(days=7))
    for created_at, status in [
        # Midnight in Los Angeles, before and after the clocks went forward on March 9.
        (datetime(2025, 3, 8, 7, 59, tzinfo=UTC), Status.CONFIRMED),
        (datetime(2025, 3, 8, 8, 0, tzinfo=UTC), Status.CONFIRMED),
        (datetime(2025, 3, 9, 8, 0, tzinfo=UTC), Status.CANCELLED),
        (datetime(2025, 3, 10, 6, 59, tzinfo=UTC), Status.CONFIRMED),
        (datetime(2025, 3, 10, 7, 0, tzinfo=UTC), Status.WAITLISTED),
        (datetime(2025, 3, 10, 17, 0, tzinfo=UTC), Status.CONFIRMED),
        (datetime(2025, 3, 11, 7, 0, tzinfo=UTC), Status.CONFIRMED),
    ]:
        registration(event=event, status=status, created_at=created_at)

    assert dashboard.signups_per_day(now=NOW, days=4, zone=LOS_ANGELES) == [
        (date(2025, 3, 7), 1),
        (date(2025, 3, 8), 1),
        (date(2025, 3, 9), 2),
        (date(2025, 3, 10), 2),
    ]


def test_signups_per_day_is_zeros_without_registrations():
    assert dashboard.signups_per_day(now=NOW, days=2, zone=UTC) == [
        (date(2025, 3, 9), 0),
        (date(2025, 3, 10), 0),
    ]


def test_upcoming_and_signups_per_day_take_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    for day in range(1, 6):
        event = event_at(NOW + timedelta(days=day))
        registration(event=event, created_at=NOW - timedelta(days=day))

    # The events with their counts, then their titles (translations).
    with django_assert_num_queries(2):
        [str(fill.event) for fill in dashboard.upcoming(now=NOW)]
    with django_assert_num_queries(1):
        dashboard.signups_per_day(now=NOW, zone=UTC)


def test_bar_chart_scales_bars_to_the_busiest_day():
    points = [(date(2025, 3, 8), 1), (date(2025, 3, 9), 4), (date(2025, 3, 10), 4)]

    assert dashboard.bar_chart(points, width=30, height=40) == BarChart(
        width=30,
        height=40,
        bars=[
            Bar(day=date(2025, 3, 8), count=1, x=0, y=30, width=9, height=10),
            Bar(day=date(2025, 3, 9), count=4, x=10, y=0, width=9, height=40),
            Bar(day=date(2025, 3, 10), count=4, x=20, y=0, width=9, height=40),
        ],
        total=9,
        busiest=(date(2025, 3, 9), 4),
    )


def test_bar_chart_without_signups_has_flat_bars_and_no_busiest_day():
    chart = dashboard.bar_chart([(date(2025, 3, 9), 0), (date(2025, 3, 10), 0)])

    assert [(bar.y, bar.height) for bar in chart.bars] == [(60, 0), (60, 0)]
    assert (chart.total, chart.busiest) == (0, None)


def test_admin_index_shows_upcoming_events_with_fill(admin_client):
    now = timezone.now()
    event = event_at(
        now + timedelta(days=3), capacity=4, timezone="Europe/Berlin", title="Berlin"
    )
    for _ in range(3):
        registration(event=event)
    registration(event=event, status=Status.WAITLISTED)
    draft = event_at(now + timedelta(days=5), capacity=0, status=Event.Status.DRAFT)

    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assertContains(
        response,
        f'<a href="{reverse("admin:events_event_change", args=[event.pk])}">Berlin</a>',
        html=True,
    )
    assertContains(
        response,
        f'<meter id="turnout-fill-{event.pk}" min="0" max="100" value="75">75%</meter>',
        html=True,
    )
    assertContains(
        response,
        f'<label for="turnout-fill-{event.pk}">3 of 4 (75%)</label>',
        html=True,
    )
    assertContains(
        response,
        f'<meter id="turnout-fill-{draft.pk}" min="0" max="100" value="0">0%</meter>',
        html=True,
    )
    local_start = event.starts_at.astimezone(ZoneInfo("Europe/Berlin"))
    abbreviation = "CEST" if local_start.dst() else "CET"
    assertContains(
        response,
        f'<time datetime="{local_start.isoformat()}">'
        f"{formats.date_format(local_start, 'D')}, "
        f"{formats.date_format(local_start, 'DATE_FORMAT')}, "
        f"{formats.time_format(local_start, 'TIME_FORMAT')} {abbreviation}</time>",
        html=True,
    )
    assertContains(response, '<span class="turnout-draft">(Draft)</span>', html=True)


def test_admin_index_chart_counts_registrations_per_day(admin_client):
    today = timezone.now().astimezone(UTC).date()
    event = event_at(timezone.now() + timedelta(days=3))
    for days_ago, how_many in [(0, 2), (3, 1), (29, 3), (30, 5)]:
        early = datetime.combine(today - timedelta(days=days_ago), time(0, 30), UTC)
        for _ in range(how_many):
            registration(event=event, created_at=early)

    response = admin_client.get(reverse("admin:index"))

    expected = {0: 2, 3: 1, 29: 3}
    days = [today - timedelta(days=days_ago) for days_ago in range(29, -1, -1)]
    assert BAR_TITLE.findall(response.content.decode()) == bar_titles(
        (day, expected.get((today - day).days, 0)) for day in days
    )
    busiest = formats.date_format(today - timedelta(days=29), "DATE_FORMAT")
    assertContains(response, "6 sign-ups in the last 30 days.")
    assertContains(response, f"Busiest day: {busiest}, with 3 sign-ups.")


def test_admin_index_chart_counts_days_in_the_admin_zone(admin_client, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    zone = ZoneInfo("Pacific/Auckland")
    today = timezone.now().astimezone(zone).date()
    event = event_at(timezone.now() + timedelta(days=3))
    # 00:30 in Auckland is the day before in UTC.
    registration(
        event=event, created_at=datetime.combine(today, time(0, 30), tzinfo=zone)
    )

    response = admin_client.get(reverse("admin:index"))

    assert BAR_TITLE.findall(response.content.decode())[-2:] == bar_titles(
        [(today - timedelta(days=1), 0), (today, 1)]
    )
    assertContains(response, "Sign-ups per day, last 30 days (Pacific/Auckland)")


def test_admin_index_without_signups_says_so(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assertContains(response, "No sign-ups in the last 30 days.")
    assertContains(response, "No upcoming events.")


def index_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return len(queries)


def test_admin_index_queries_do_not_grow_with_events(admin_client):
    def add_events(n):
        for _ in range(n):
            event = EventFactory()
            registration(event=event, checked_in_at=timezone.now())
            registration(event=event, status=Status.WAITLISTED)

    admin_client.get(reverse("admin:index"))
    add_events(2)
    with_two = index_queries(admin_client)
    add_events(18)
    with_twenty = index_queries(admin_client)

    assert with_twenty == with_two


def staff_client(client, *permissions):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="events", codename__in=permissions
        )
    )
    client.force_login(user)
    return client


def test_admin_index_hides_dashboard_without_view_event_permission(client):
    EventFactory(title="Tour stop Oslo")
    client = staff_client(client, "view_registration")

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assertNotContains(response, 'id="turnout-dashboard"')
    assertNotContains(response, "Tour stop Oslo")
    assertNotContains(response, "Sign-ups per day")


def test_admin_index_shows_dashboard_with_view_event_permission(client):
    EventFactory(title="Tour stop Lima")
    client = staff_client(client, "view_event")

    response = client.get(reverse("admin:index"))

    assertContains(response, 'id="turnout-dashboard"', count=1)
    assertContains(response, "Tour stop Lima")
