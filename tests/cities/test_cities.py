"""A series that spans cities: city pages, following a city, and the iCal feeds."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from cities import selectors as city_selectors
from cities import services as city_services
from cities.messages import CITY_NEWS
from cities.models import CitySubscription
from events import services
from events.models import Event
from notifications import links
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.support.admin import change_form_data

pytestmark = pytest.mark.django_db

Status = Event.Status
DAY = 24 * 60 * 60


def event_in(city: str, local: datetime, **fields) -> Event:
    """An event in one of the series' cities, at the venue's local time."""
    places = {
        "London": ("GB", "Europe/London"),
        "Paris": ("FR", "Europe/Paris"),
        "San Francisco": ("US", "America/Los_Angeles"),
        "São Paulo": ("BR", "America/Sao_Paulo"),
        "Tokyo": ("JP", "Asia/Tokyo"),
    }
    country, zone = places[city]
    starts = local.replace(tzinfo=ZoneInfo(zone))
    fields = {
        "city": city,
        "country": country,
        "timezone": zone,
        "venue_name": f"The {city} Hall",
        "venue_address": f"1 Main St, {city}",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=3),
        **fields,
    }
    return EventFactory(**fields)


def titles(response) -> list[str]:
    return [event.title for event in response.context["events"]]


def follow_form(response) -> tuple[str, str, str]:
    """The city page's follow (or unfollow) form: its action, CSRF token and button."""
    match = re.search(
        r'<form method="post" action="(/cities/[^"]+/(?:un)?follow/)">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">\s*'
        r'<button class="[^"]+" type="submit">([^<]+)</button>',
        response.content.decode(),
    )
    assert match, "no follow form on the page"
    return match.group(1), match.group(2), match.group(3)


# City pages ----------------------------------------------------------------------
def test_city_page_lists_only_its_upcoming_published_events(client):
    later = event_in("London", datetime(2027, 6, 3, 18, 30), title="London in June")
    sooner = event_in("London", datetime(2027, 5, 6, 18, 30), title="London in May")
    event_in("London", datetime(2027, 5, 20, 18, 30), status=Status.DRAFT)
    event_in("London", datetime(2027, 5, 27, 18, 30), status=Status.CANCELLED)
    event_in("London", datetime(2025, 5, 1, 18, 30), title="London, long ago")
    event_in("Paris", datetime(2027, 5, 13, 18, 30), title="Paris in May")

    response = client.get("/cities/london/")

    assert response.status_code == 200
    assert titles(response) == [sooner.title, later.title]
    assert response.context["city"].name == "London"
    assert response.context["following"] is False


def test_city_page_of_a_city_with_only_past_events_lists_none(client):
    event_in("London", datetime(2025, 5, 1, 18, 30))

    response = client.get("/cities/london/")

    assert response.status_code == 200
    assert titles(response) == []
    assert "No upcoming events in London right now." in response.content.decode()


@pytest.mark.parametrize("slug", ["atlantis", "london"])
def test_city_page_of_an_unknown_city_is_404(client, slug):
    """London is unknown too while its only event is a draft."""
    event_in("London", datetime(2027, 5, 6, 18, 30), status=Status.DRAFT)

    assert client.get(f"/cities/{slug}/").status_code == 404
    assert client.get(f"/cities/{slug}/events.ics").status_code == 404


def test_city_page_of_a_name_with_accents_is_at_its_ascii_slug(client):
    event = event_in("São Paulo", datetime(2027, 8, 12, 19, 0))

    response = client.get("/cities/sao-paulo/")

    assert reverse("cities:city", kwargs={"slug": "sao-paulo"}) == "/cities/sao-paulo/"
    assert response.status_code == 200
    assert response.context["city"].name == "São Paulo"
    assert titles(response) == [event.title]
    assert "<title>Turnout in São Paulo" in response.content.decode()


def test_home_page_links_each_city(client):
    event_in("Tokyo", datetime(2027, 7, 1, 19, 0))
    event_in("São Paulo", datetime(2027, 8, 12, 19, 0))
    event_in("London", datetime(2027, 5, 6, 18, 30))
    event_in("San Francisco", datetime(2027, 9, 2, 18, 0))

    content = client.get("/").content.decode()

    # The series' home city first, then the others by their soonest event.
    assert re.findall(r'<a [^>]*href="(/cities/[^"]+)">([^<]+)</a>', content) == [
        ("/cities/san-francisco/", "San Francisco"),
        ("/cities/london/", "London"),
        ("/cities/tokyo/", "Tokyo"),
        ("/cities/sao-paulo/", "São Paulo"),
    ]


# Following a city ----------------------------------------------------------------
def test_follow_city_anonymous_is_sent_to_sign_in(client):
    event_in("London", datetime(2027, 5, 6, 18, 30))

    page = client.get("/cities/london/").content.decode()
    response = client.post("/cities/london/follow/")

    assert 'href="/accounts/login/?next=/cities/london/">Sign in</a>' in page
    assert 'action="/cities/london/follow/"' not in page
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/cities/london/follow/"
    assert not CitySubscription.objects.exists()


def test_follow_then_unfollow_with_the_page_buttons():
    event_in("London", datetime(2027, 5, 6, 18, 30))
    user = UserFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    action, token, button = follow_form(browser.get("/cities/london/"))
    assert (action, button) == ("/cities/london/follow/", "Tell me")
    response = browser.post(action, {"csrfmiddlewaretoken": token})

    assert (response.status_code, response.url) == (302, "/cities/london/")
    assert list(
        CitySubscription.objects.values_list("user", "city_slug", "city_name")
    ) == [(user.pk, "london", "London")]

    page = browser.get("/cities/london/")
    assert page.context["following"] is True
    action, token, button = follow_form(page)
    assert (action, button) == ("/cities/london/unfollow/", "Stop the news")
    response = browser.post(action, {"csrfmiddlewaretoken": token})

    assert (response.status_code, response.url) == (302, "/cities/london/")
    assert not CitySubscription.objects.exists()
    action, _token, button = follow_form(browser.get("/cities/london/"))
    assert (action, button) == ("/cities/london/follow/", "Tell me")


# News of a new event in a followed city -----------------------------------------
@pytest.fixture
def london():
    """London as a city of the series (it has had a published event)."""
    event_in("London", datetime(2025, 5, 1, 18, 30))
    return city_selectors.city(slug="london")


def following(city, count=1) -> list:
    users = UserFactory.create_batch(count)
    for user in users:
        city_services.follow_city(user=user, city=city)
    return users


def draft_in(city_name: str) -> Event:
    return event_in(city_name, datetime(2027, 5, 6, 18, 30), status=Status.DRAFT)


def test_publishing_an_event_emails_each_follower_of_its_city_once(mailbox, london):
    ada, grace = following(london, 2)
    event = draft_in("London")

    services.publish_event(event=event)
    first = [(email.to, email.subject) for email in mailbox()]
    services.unpublish_event(event=event)
    services.publish_event(event=event)
    sent = [(email.to, email.subject) for email in mailbox()]

    subject = f"[Turnout] Turnout comes to London: {event.title}"
    assert sorted(first) == [([ada.email], subject), ([grace.email], subject)]
    assert sent == first
    assert Message.objects.filter(kind=CITY_NEWS).count() == 2


def test_publishing_again_before_the_news_went_out_queues_no_second_email(
    mailbox, london
):
    (ada,) = following(london)
    event = draft_in("London")

    services.publish_event(event=event)
    services.unpublish_event(event=event)
    services.publish_event(event=event)

    assert [email.to for email in mailbox()] == [[ada.email]]


def test_publishing_emails_nobody_who_unfollowed(mailbox, london):
    stayed, left = following(london, 2)
    city_services.unfollow_city(user=left, city_slug="london")

    services.publish_event(event=draft_in("London"))

    assert [email.to for email in mailbox()] == [[stayed.email]]


def test_publishing_emails_no_follower_already_registered(mailbox, london):
    newcomer, registered = following(london, 2)
    event = draft_in("London")
    RegistrationFactory(event=event, user=registered)

    services.publish_event(event=event)

    assert [email.to for email in mailbox()] == [[newcomer.email]]


def test_publishing_emails_no_follower_of_another_city(mailbox, london):
    event_in("Paris", datetime(2025, 6, 1, 18, 30))
    (in_london,) = following(london)
    following(city_selectors.city(slug="paris"))

    services.publish_event(event=draft_in("London"))

    assert [email.to for email in mailbox()] == [[in_london.email]]


def test_city_news_one_click_unsubscribe_ends_the_subscription(
    mailbox, london, link_clock
):
    (ada,) = following(london)
    event = draft_in("London")
    services.publish_event(event=event)

    (email,) = mailbox()

    link = links.url(links.UNFOLLOW_CITY, [ada.pk, "london"])
    assert link.startswith("http://testserver/unfollow/")
    assert email.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Stop news of events in London: {link}" in email.body.splitlines()
    # RFC 8058: the mail client POSTs, with no cookie and no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        link.removeprefix("http://testserver"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You will no longer get news of new events in this city." in (
        response.content.decode()
    )
    assert not CitySubscription.objects.filter(user=ada).exists()


def test_unfollow_link_asks_before_it_unsubscribes(client, london):
    (ada,) = following(london)

    response = client.get(
        links.url(links.UNFOLLOW_CITY, [ada.pk, "london"]).removeprefix(
            "http://testserver"
        )
    )

    assert response.status_code == 200
    assert "Stop the emails about new events in London?" in response.content.decode()
    assert CitySubscription.objects.filter(user=ada, city_slug="london").count() == 1


@pytest.mark.parametrize("tampering", ["altered", "reminder-unsubscribe-token"])
def test_unfollow_link_tampered_is_400_and_changes_nothing(london, tampering):
    (ada,) = following(london)
    path = links.url(links.UNFOLLOW_CITY, [ada.pk, "london"]).removeprefix(
        "http://testserver"
    )
    if tampering == "altered":
        path = path[:-3] + "xx/"
    else:
        token = links.url(links.STOP_REMINDERS, ada.pk).rstrip("/").rsplit("/", 1)[1]
        path = reverse("cities:unfollow_link", kwargs={"token": token})

    response = Client(enforce_csrf_checks=True).post(path)

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert CitySubscription.objects.filter(user=ada, city_slug="london").count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_unfollow_link_a_year_old_is_expired_and_changes_nothing(
    london, link_clock, method
):
    (ada,) = following(london)
    path = links.url(links.UNFOLLOW_CITY, [ada.pk, "london"]).removeprefix(
        "http://testserver"
    )
    link_clock.now += DAY * 365 + 1

    response = getattr(Client(enforce_csrf_checks=True), method)(path)

    assert response.status_code == 410
    page = response.content.decode()
    assert "This link has expired" in page
    assert "This link is too old to use, so nothing was changed." in page
    assert CitySubscription.objects.filter(user=ada, city_slug="london").count() == 1


def test_unfollow_link_works_for_a_year(london, link_clock):
    (ada,) = following(london)
    path = links.url(links.UNFOLLOW_CITY, [ada.pk, "london"]).removeprefix(
        "http://testserver"
    )
    link_clock.now += DAY * 365

    response = Client(enforce_csrf_checks=True).post(path)

    assert response.status_code == 200
    assert not CitySubscription.objects.filter(user=ada).exists()


# iCal feeds ----------------------------------------------------------------------
def test_staff_adding_a_published_event_tells_the_citys_followers(
    admin_client, mailbox, london
):

    (follower,) = following(london)
    template = event_in("London", datetime(2027, 5, 6, 19, 0), title="Template")
    Event.objects.filter(pk=template.pk).delete()
    data = change_form_data(template, slug="london-new", title="London new")

    response = admin_client.post(reverse("admin:events_event_add"), data)

    assert response.status_code == 302
    event = Event.objects.get(slug="london-new")
    assert (event.status, event.published_at is not None) == (Status.PUBLISHED, True)
    assert [m.to for m in mailbox()] == [[follower.email]]
