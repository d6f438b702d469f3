"""The iCal feeds: the whole series, and each city."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cities import selectors as city_selectors
from events import services
from events.models import Event
from tests.cities.test_cities import event_in
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

Status = Event.Status
DAY = 24 * 60 * 60


def parse_feed(response) -> icalendar.Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def summaries(calendar) -> list[tuple[str, str]]:
    return [
        (str(vevent["SUMMARY"]), str(vevent["STATUS"]))
        for vevent in calendar.walk("VEVENT")
    ]


@pytest.fixture
def tour():
    """Events of 2027 in three zones, with a cancelled one and a draft."""
    return {
        "sf": event_in("San Francisco", datetime(2027, 3, 14, 18, 0), title="SF"),
        "london": event_in("London", datetime(2027, 3, 28, 10, 0), title="London"),
        "tokyo": event_in(
            "Tokyo",
            datetime(2027, 4, 8, 19, 0),
            title="Tokyo",
            status=Status.CANCELLED,
            published_at=datetime(2026, 11, 1, tzinfo=UTC),  # public, then cancelled
        ),
        "london_later": event_in(
            "London", datetime(2027, 11, 4, 18, 30), title="London again"
        ),
    }


def test_series_feed_has_every_public_event_and_marks_the_cancelled(client, tour):
    event_in("London", datetime(2027, 6, 3, 18, 30), title="Draft", status=Status.DRAFT)

    response = client.get("/events.ics")

    calendar = parse_feed(response)
    assert response["Content-Disposition"] == 'inline; filename="turnout.ics"'
    assert str(calendar["X-WR-CALNAME"]) == "Turnout"
    assert summaries(calendar) == [
        ("SF", "CONFIRMED"),
        ("London", "CONFIRMED"),
        ("Tokyo", "CANCELLED"),
        ("London again", "CONFIRMED"),
    ]


def test_feeds_and_city_pages_leave_out_a_draft_cancelled_before_it_was_public(
    client,
):
    secret = event_in(
        "Paris", datetime(2027, 6, 3, 18, 30), title="Secret", status=Status.DRAFT
    )
    services.cancel_event(event=secret)
    event_in("London", datetime(2027, 6, 10, 18, 30), title="London")

    assert summaries(parse_feed(client.get("/events.ics"))) == [("London", "CONFIRMED")]
    assert [city.slug for city in city_selectors.cities()] == ["london"]
    assert client.get("/cities/paris/").status_code == 404
    assert client.get("/cities/paris/events.ics").status_code == 404


def test_city_feed_has_only_that_citys_events(client, tour):
    event_in("London", datetime(2027, 6, 3, 18, 30), title="Draft", status=Status.DRAFT)

    response = client.get("/cities/london/events.ics")

    calendar = parse_feed(response)
    assert response["Content-Disposition"] == 'inline; filename="turnout-london.ics"'
    assert str(calendar["X-WR-CALNAME"]) == "Turnout London"
    assert summaries(calendar) == [
        ("London", "CONFIRMED"),
        ("London again", "CONFIRMED"),
    ]
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == [
        "Europe/London"
    ]


@pytest.mark.parametrize("path", ["/events.ics", "/cities/london/events.ics"])
def test_feed_events_start_in_their_own_zone(client, tour, path):
    calendar = parse_feed(client.get(path))

    by_uid = {f"turnout-event-{event.pk}@testserver": event for event in tour.values()}
    vevents = calendar.walk("VEVENT")
    assert vevents
    for vevent in vevents:
        event = by_uid[str(vevent["UID"])]
        assert vevent["DTSTART"].params["TZID"] == event.timezone
        assert vevent["DTEND"].params["TZID"] == event.timezone
        start = vevent.decoded("DTSTART")
        assert start == event.starts_at
        # The wall-clock time written is the venue's, not UTC's.
        assert start.replace(tzinfo=None) == event.starts_at.astimezone(
            event.zone
        ).replace(tzinfo=None)
        assert vevent.decoded("DTEND") == event.ends_at


def test_series_feed_has_one_vtimezone_per_zone_used(client, tour):
    calendar = parse_feed(client.get("/events.ics"))

    zones = [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")]
    assert sorted(zones) == ["America/Los_Angeles", "Asia/Tokyo", "Europe/London"]
    used = {vevent["DTSTART"].params["TZID"] for vevent in calendar.walk("VEVENT")}
    assert used == set(zones)


@pytest.mark.parametrize("path", ["/events.ics", "/cities/london/events.ics"])
def test_feed_query_count_does_not_grow_with_the_events(client, path):
    def queries_for(count: int) -> int:
        Event.objects.all().delete()
        for day in range(count):
            event_in("London", datetime(2027, 5, 1 + day, 18, 30))
        # parler keeps the titles it saved in the cache; a subscriber's request
        # after a restart or an eviction finds it cold.
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            calendar = parse_feed(client.get(path))
        assert len(calendar.walk("VEVENT")) == count
        return len(captured)

    assert queries_for(2) == queries_for(10)


def test_feed_times_are_exact_for_a_half_hour_zone(client):
    kolkata = ZoneInfo("Asia/Kolkata")
    starts = datetime(2027, 3, 28, 19, 0, tzinfo=kolkata)
    EventFactory(
        city="Bangalore",
        country="IN",
        timezone="Asia/Kolkata",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
    )

    calendar = parse_feed(client.get("/cities/bangalore/events.ics"))

    (vevent,) = calendar.walk("VEVENT")
    assert vevent["DTSTART"].to_ical() == b"20270328T190000"
    assert vevent["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert vevent.decoded("DTSTART").astimezone(UTC) == datetime(
        2027, 3, 28, 13, 30, tzinfo=UTC
    )


def test_a_cancelled_event_that_was_never_public_stays_out_of_the_feeds(client):
    draft = event_in(
        "Paris", datetime(2027, 5, 6, 19, 0), title="Secret draft", status=Status.DRAFT
    )
    services.cancel_event(event=draft)

    assert summaries(parse_feed(client.get("/events.ics"))) == []
    assert client.get("/cities/paris/events.ics").status_code == 404


def test_city_feed_keeps_a_cancelled_event_so_calendars_drop_it(client):
    event = event_in(
        "London", datetime(2027, 5, 6, 19, 0), title="Gone", status=Status.DRAFT
    )
    services.publish_event(event=event)
    services.cancel_event(event=event)

    response = client.get("/cities/london/events.ics")

    assert response.status_code == 200
    assert summaries(parse_feed(response)) == [("Gone", "CANCELLED")]


def test_series_feed_has_one_vtimezone_per_zone_across_years(client):
    event_in("London", datetime(2027, 12, 9, 18, 30))
    event_in("London", datetime(2029, 1, 13, 18, 30))

    calendar = parse_feed(client.get("/events.ics"))

    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/London"
    starts = []
    for observance in zone.walk():
        if observance.name in ("STANDARD", "DAYLIGHT"):
            starts.append(observance.decoded("DTSTART").year)
            rdates = observance.get("RDATE", [])
            for rdate in rdates if isinstance(rdates, list) else [rdates]:
                starts += [period.dt.year for period in rdate.dts]
    assert min(starts) <= 2027 and max(starts) >= 2029  # covers both events
