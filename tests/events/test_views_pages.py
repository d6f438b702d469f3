"""The public pages: the series home, the event page in every state, /me/."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Event, Registration
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status


def action_panel(response) -> str:
    html = response.content.decode()
    start = html.index(">", html.index('data-testid="action"')) + 1
    return html[start : html.index("</div>", start)]


def action_text(response) -> str:
    """The action panel's visible text, whitespace folded."""
    text = re.sub(r"<[^>]+>", "", action_panel(response))
    return " ".join(text.split()).replace("&#x27;", "'")


def buttons(response) -> list[str]:
    panel = action_panel(response)
    controls = re.findall(
        r'<button[^>]*>(.*?)</button>|<a class="btn[^>]*>(.*?)</a>', panel, re.S
    )
    return [" ".join((button or link).split()) for button, link in controls]


# The series home --------------------------------------------------------------


def test_home_lists_the_home_city_first_then_cities_by_date(client):
    now = timezone.now()
    EventFactory(
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        starts_at=now + timedelta(days=3),
    )
    EventFactory(
        city="London",
        country="GB",
        timezone="Europe/London",
        starts_at=now + timedelta(days=5),
    )
    EventFactory(city="San Francisco", starts_at=now + timedelta(days=30))
    EventFactory(
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        starts_at=now + timedelta(days=40),
    )
    response = client.get("/")
    assert response.status_code == 200
    assert [group.city for group in response.context["cities"]] == [
        "San Francisco",
        "Tokyo",
        "London",
    ]
    assert [len(group.events) for group in response.context["cities"]] == [1, 2, 1]


def test_home_hides_drafts_cancelled_and_past_events(client):
    now = timezone.now()
    shown = EventFactory(title="Shown")
    EventFactory(title="Draft", status=Event.Status.DRAFT)
    EventFactory(title="Called off", status=Event.Status.CANCELLED)
    EventFactory(
        title="Over", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
    )
    response = client.get("/")
    assert [e.title for g in response.context["cities"] for e in g.events] == [
        shown.title
    ]


def test_home_shows_local_time_with_zone_abbreviation_and_seats(client):
    EventFactory(
        title="Tokyo night",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        starts_at=datetime(2099, 3, 6, 9, 0, tzinfo=UTC),
        ends_at=datetime(2099, 3, 6, 12, 0, tzinfo=UTC),
        capacity=3,
    )
    content = client.get("/").content.decode()
    assert "Fri, March 6, 2099, 6 p.m. JST" in content
    assert "3 seats left" in content


def test_home_says_waitlist_when_full(client):
    event = EventFactory(capacity=1)
    services.register(event=event, user=UserFactory())
    assert "Full · waitlist open" in client.get("/").content.decode()


# The event page: one action for every state ---------------------------------------


def test_event_page_open_shows_register(client):
    event = EventFactory(capacity=2)
    response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert buttons(response) == ["Register"]


def test_event_page_full_shows_join_waitlist(attendee_client):
    event = EventFactory(capacity=1)
    services.register(event=event, user=UserFactory())
    response = attendee_client.get(event.get_absolute_url())
    assert buttons(response) == ["Join the waitlist"]


def test_event_page_confirmed_shows_youre_in_and_cancel(attendee_client):
    event = EventFactory()
    services.register(event=event, user=attendee_client.user)
    response = attendee_client.get(event.get_absolute_url())
    assert action_text(response).startswith("You're in!")
    assert buttons(response) == ["Cancel my registration"]


def test_event_page_waitlisted_shows_position_and_leave(attendee_client):
    event = EventFactory(capacity=1)
    for _ in range(3):
        services.register(event=event, user=UserFactory())
    services.register(event=event, user=attendee_client.user)
    response = attendee_client.get(event.get_absolute_url())
    assert action_text(response).startswith("You're #3 on the waitlist.")
    assert buttons(response) == ["Leave the waitlist"]


def test_event_page_not_open_yet_says_when_it_opens(client):
    event = EventFactory(
        registration_opens_at=datetime(2099, 1, 10, 17, 0, tzinfo=UTC),
        starts_at=datetime(2099, 2, 1, 2, 0, tzinfo=UTC),
        ends_at=datetime(2099, 2, 1, 5, 0, tzinfo=UTC),
    )
    response = client.get(event.get_absolute_url())
    assert buttons(response) == []
    assert action_text(response) == (
        "Registration for this event has not opened yet. "
        "It opens Sat, Jan. 10, 2099, 9 a.m. PST."
    )


def test_event_page_closed_says_closed(client):
    event = EventFactory(registration_closes_at=timezone.now() - timedelta(minutes=1))
    response = client.get(event.get_absolute_url())
    assert buttons(response) == []
    assert action_text(response) == "Registration for this event is closed."


def test_event_page_started_says_started(client):
    now = timezone.now()
    event = EventFactory(
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    response = client.get(event.get_absolute_url())
    assert (
        action_text(response)
        == "This event has already started, so registration is closed."
    )


def test_event_page_cancelled_event_says_cancelled(client):
    event = EventFactory(status=Event.Status.CANCELLED)
    response = client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert buttons(response) == []
    assert action_text(response) == "This event has been cancelled."


def test_event_page_cancelled_after_i_registered_says_cancelled_only(attendee_client):
    event = EventFactory(capacity=100)
    mine = services.register(event=event, user=attendee_client.user)
    services.cancel_event(event=event)

    response = attendee_client.get(event.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert action_text(response) == "This event has been cancelled."
    assert buttons(response) == []
    assert "<form" not in action_panel(response)
    assert "re in!" not in html
    assert "seats left" not in html
    assert 'data-testid="seats"' not in html
    assert reverse("events:ticket", args=[mine.ticket_code]) not in html


def test_event_page_past_event_with_registration_has_no_cancel(attendee_client):
    event = EventFactory()
    services.register(event=event, user=attendee_client.user)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - timedelta(days=2),
        ends_at=timezone.now() - timedelta(days=1),
    )
    response = attendee_client.get(event.get_absolute_url())
    assert action_text(response) == "You're in!"
    assert buttons(response) == []


def test_event_page_shows_viewer_time_when_zone_differs(attendee_client):
    attendee_client.user.timezone = "Europe/Paris"
    attendee_client.user.save()
    event = EventFactory(
        starts_at=datetime(2099, 6, 5, 1, 0, tzinfo=UTC),
        ends_at=datetime(2099, 6, 5, 4, 0, tzinfo=UTC),
    )
    content = attendee_client.get(event.get_absolute_url()).content.decode()
    assert "Thu, June 4, 2099, 6 p.m. PDT" in content
    assert (
        'Your time: <time datetime="2099-06-05T03:00:00+02:00">Fri, June 5, 2099, 3 a.m. CEST</time>'
        in content
    )


def test_event_page_hides_viewer_time_when_the_clock_reads_the_same(attendee_client):
    attendee_client.user.timezone = "Europe/Paris"
    attendee_client.user.save()
    event = EventFactory(city="Berlin", country="DE", timezone="Europe/Berlin")
    assert (
        "Your time:"
        not in attendee_client.get(event.get_absolute_url()).content.decode()
    )


def test_event_page_hides_viewer_time_when_zone_is_the_same(attendee_client):
    attendee_client.user.timezone = "America/Los_Angeles"
    attendee_client.user.save()
    event = EventFactory()
    assert (
        "Your time:"
        not in attendee_client.get(event.get_absolute_url()).content.decode()
    )


def test_event_page_links_the_venue_to_a_map(client):
    event = EventFactory(
        venue_name="Moscone Center West", venue_address="800 Howard St"
    )
    content = client.get(event.get_absolute_url()).content.decode()
    assert (
        'href="https://www.openstreetmap.org/search?query=Moscone+Center+West%2C+800+Howard+St"'
        in content
    )


def test_event_page_of_draft_is_404_for_attendees_and_visible_to_staff(
    client, admin_client
):
    event = EventFactory(status=Event.Status.DRAFT)
    assert client.get(event.get_absolute_url()).status_code == 404
    response = admin_client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert "Draft: only staff can see this page" in response.content.decode()


def test_event_page_of_a_cancelled_draft_is_404_for_attendees_and_visible_to_staff(
    client, admin_client
):
    """Cancelling a draft nobody was told of does not announce it."""
    event = EventFactory(status=Event.Status.DRAFT)
    services.cancel_event(event=event)

    assert client.get(event.get_absolute_url()).status_code == 404
    assert client.post(reverse("events:register", args=[event.slug])).status_code == (
        404
    )
    response = admin_client.get(event.get_absolute_url())
    assert response.status_code == 200
    assert "This event has been cancelled." in response.content.decode()


def test_event_page_of_an_event_cancelled_after_it_was_published_is_public(client):
    event = EventFactory(status=Event.Status.DRAFT)
    services.publish_event(event=event)
    services.cancel_event(event=event)

    response = client.get(event.get_absolute_url())

    assert response.status_code == 200
    assert action_text(response) == "This event has been cancelled."


@pytest.mark.parametrize(
    ("ends_at", "shown"),
    [
        (
            datetime(2099, 6, 5, 4, 0, tzinfo=UTC),
            'until <time datetime="2099-06-04T21:00:00-07:00">9 p.m. PDT</time></span>',
        ),
        (
            datetime(2099, 6, 6, 1, 0, tzinfo=UTC),
            'until <time datetime="2099-06-05T18:00:00-07:00">'
            "Fri, June 5, 2099, 6 p.m. PDT</time>",
        ),
    ],
    ids=["same day: time only", "next day: full date"],
)
def test_event_page_shows_the_end_with_the_date_only_when_it_differs(
    client, ends_at, shown
):
    event = EventFactory(
        starts_at=datetime(2099, 6, 5, 1, 0, tzinfo=UTC), ends_at=ends_at
    )
    assert shown in client.get(event.get_absolute_url()).content.decode()


# My registrations -------------------------------------------------------------------


def test_my_registrations_lists_upcoming_and_past_with_waitlist_position(
    attendee_client,
):
    now = timezone.now()
    soon = EventFactory(title="Soon", capacity=0)
    services.register(event=soon, user=UserFactory())
    services.register(event=soon, user=attendee_client.user)
    later = EventFactory(title="Later", starts_at=now + timedelta(days=20))
    services.register(event=later, user=attendee_client.user)
    over = EventFactory(title="Over")
    services.register(event=over, user=attendee_client.user)
    Event.objects.filter(pk=over.pk).update(
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=3) + timedelta(hours=2),
    )
    EventFactory(title="Not mine")

    response = attendee_client.get(reverse("events:my_registrations"))
    mine = response.context["registrations"]
    assert [(r.event.title, r.status) for r in mine.upcoming] == [
        ("Soon", Status.WAITLISTED),
        ("Later", Status.CONFIRMED),
    ]
    assert [r.event.title for r in mine.past] == ["Over"]
    assert [r.waitlist_position for r in mine.upcoming] == [2, None]
    assert "Waitlist #2" in response.content.decode()


def my_item(html: str, title: str) -> str:
    """The /me/ list item of the event titled title."""
    (item,) = [
        li
        for li in re.findall(r'<li class="list-group-item.*?</li>', html, re.S)
        if f">{title}</a>" in li
    ]
    return item


def test_my_registrations_shows_a_cancelled_event_as_cancelled(attendee_client):
    event = EventFactory(title="Called off")
    mine = services.register(event=event, user=attendee_client.user)
    services.cancel_event(event=event)

    response = attendee_client.get(reverse("events:my_registrations"))

    html = response.content.decode()
    item = my_item(html, "Called off")
    badge = re.search(r'<span class="badge ([^"]+)">\s*(.*?)\s*</span>', item, re.S)
    assert badge.groups() == ("text-bg-danger", "Event cancelled")
    assert reverse("events:ticket", args=[mine.ticket_code]) not in html


def test_my_registrations_needs_login(client):
    response = client.get(reverse("events:my_registrations"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/"
