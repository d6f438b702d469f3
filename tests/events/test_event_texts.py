"""An event's title and description: the reader's language where staff wrote one,
else the event's own language (django-parler, events.models.Event)."""

import pytest

from events.models import Event
from tests.factories import EventFactory

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
        ("fr", "東京の夜"),
        ("de", "東京の夜"),
    ],
)
def test_event_page_shows_the_readers_language_else_the_events_own(
    client, tokyo, reader, title
):
    page = client.get(tokyo.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=reader)
    assert "<h1" in page.content.decode()
    assert title in page.content.decode()
    other = {"Tokyo (English)", "東京の夜"} - {title}
    assert other.pop() not in page.content.decode()


def test_home_list_shows_each_event_in_the_readers_language_else_its_own(client, tokyo):
    english_only = EventFactory(title="Only in English", language="en")

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "東京の夜" in page and "Only in English" in page
    assert english_only.language == "en"


def test_an_event_without_any_text_in_the_readers_or_its_own_language_still_names_itself():
    event = EventFactory(title="Berlin night", language="en")
    Event.objects.filter(pk=event.pk).update(language="de")  # its own: no text
    event = Event.objects.get(pk=event.pk)
    assert str(event) == "Berlin night"


def test_a_new_events_texts_are_in_its_own_language_whatever_is_active():
    from django.utils import translation

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
