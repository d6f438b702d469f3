"""An event's title and description: the reader's language where staff wrote one,
else the site's (English), else the event's own language (django-parler,
events.models.Event)."""

import icalendar
import pytest
from django.core.cache import cache
from django.utils import translation

from events.models import Event, Registration
from tests.factories import EventFactory, RegistrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokyo():
    """Held in Japanese, with an English translation; nothing in French."""
    event = EventFactory(
        city="Tokyo",
        timezone="Asia/Tokyo",
        language="ja",
        title="東京の夜",  # a new event's texts are in its own language
        description="日本語で。",
    )
    event.set_current_language("en")
    event.title, event.description = "Tokyo (English)", "In English."
    event.save()
    return event


@pytest.mark.parametrize(
    ("reader", "title"),
    [
        ("en", "Tokyo (English)"),
        ("ja", "東京の夜"),
        ("fr", "Tokyo (English)"),
        ("de", "Tokyo (English)"),
    ],
)
def test_event_page_shows_the_readers_language_else_english(
    client, tokyo, reader, title
):
    page = client.get(tokyo.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=reader)
    assert "<h1" in page.content.decode()
    assert title in page.content.decode()
    other = {"Tokyo (English)", "東京の夜"} - {title}
    assert other.pop() not in page.content.decode()


def sao_paulo():
    """Held in Portuguese, with a Japanese translation; nothing in English. The
    Japanese was written first, so it is not simply the first text found."""
    event = EventFactory(
        city="São Paulo",
        country="BR",
        timezone="America/Sao_Paulo",
        language="ja",
        title="サンパウロの夜",
    )
    event.set_current_language("pt-br")
    event.title = "Noite em São Paulo"
    event.save()
    Event.objects.filter(pk=event.pk).update(language="pt-br")
    return Event.objects.get(pk=event.pk)


def test_event_page_without_the_readers_language_or_english_shows_the_events_own(
    client,
):
    event = sao_paulo()
    cache.clear()  # as after a restart: nothing of parler's in the cache

    page = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")

    assert "Noite em São Paulo" in page.content.decode()
    assert "サンパウロの夜" not in page.content.decode()


def test_japanese_only_event_is_shown_in_japanese_to_a_french_reader(client):
    event = EventFactory(language="ja", title="大阪の夜", timezone="Asia/Tokyo")

    page = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")

    assert "大阪の夜" in page.content.decode()


def test_home_list_shows_each_event_in_the_readers_language_else_english_else_its_own(
    client, tokyo
):
    EventFactory(title="Only in English", language="en")
    EventFactory(title="大阪の夜", language="ja", timezone="Asia/Tokyo")
    sao_paulo()
    cache.clear()

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    for shown in (
        "Tokyo (English)",
        "Only in English",
        "大阪の夜",
        "Noite em São Paulo",
    ):
        assert shown in page
    assert "東京の夜" not in page and "サンパウロの夜" not in page


def test_feed_titles_are_in_the_readers_language_else_english_else_the_events_own(
    client, tokyo
):
    sao_paulo()
    cache.clear()

    feed = client.get("/events.ics", HTTP_ACCEPT_LANGUAGE="fr")

    calendar = icalendar.Calendar.from_ical(feed.content)
    assert sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT")) == [
        "Noite em São Paulo",
        "Tokyo (English)",
    ]


def test_a_registrations_event_reads_the_same_fallback_without_a_prefetch():
    """Events read through a foreign key (emails, tickets) fetch their texts alone."""
    event = sao_paulo()
    registration = RegistrationFactory(event=event)
    cache.clear()

    with translation.override("fr"):
        loaded = Registration.objects.select_related("event").get(pk=registration.pk)
        assert loaded.event.title == "Noite em São Paulo"


def test_an_event_without_any_text_in_the_readers_or_its_own_language_still_names_itself():
    event = EventFactory(title="Berlin night", language="en")
    Event.objects.filter(pk=event.pk).update(language="de")  # its own: no text
    event = Event.objects.get(pk=event.pk)
    assert str(event) == "Berlin night"


def test_a_new_events_texts_are_in_its_own_language_whatever_is_active():
    """The factory writes them as staff do (the model no longer guesses: parler
    writes in the active language unless told)."""
    with translation.override("de"):
        event = EventFactory(title="Nuit à Paris", language="fr")
    assert [(t.language_code, t.title) for t in event.translations.all()] == [
        ("fr", "Nuit à Paris")
    ]


def test_an_event_with_no_text_in_its_own_language_shows_the_one_it_has(client):
    event = EventFactory(title="Only English text", language="en")
    Event.objects.filter(pk=event.pk).update(language="ja")  # staff typed en only

    page = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")

    assert "Only English text" in page.content.decode()


def test_an_event_with_neither_english_nor_its_own_text_shows_the_one_it_has(client):
    event = EventFactory(title="Nur auf Deutsch", language="de")
    Event.objects.filter(pk=event.pk).update(language="ja")  # staff typed de only
    cache.clear()

    page = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr")

    assert "Nur auf Deutsch" in page.content.decode()
