"""Each reader in their own language and clock: negotiation, the switcher, the offer."""

import pytest
from django.urls import reverse

from accounts.middleware import SESSION_TIMEZONE
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def lang_of(response) -> str:
    html = response.content.decode()
    start = html.index('<html lang="') + len('<html lang="')
    return html[start : html.index('"', start)]


def test_anonymous_reader_gets_the_browsers_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert lang_of(response) == "de"


def test_brazilian_portuguese_is_negotiated(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")
    assert lang_of(response) == "pt-br"


def test_unknown_browser_language_falls_back_to_english(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ko-KR")
    assert lang_of(response) == "en"


def test_saved_preference_wins_over_the_browser(client):
    client.force_login(UserFactory(language="ja"))
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")
    assert lang_of(response) == "ja"


def test_switcher_sets_the_cookie_for_anonymous_readers(client):
    response = client.post(
        reverse("accounts:set_language"), {"language": "es", "next": "/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert lang_of(client.get("/", HTTP_ACCEPT_LANGUAGE="de")) == "es"


def test_switcher_saves_the_choice_to_the_profile(client):
    user = UserFactory(language="en")
    client.force_login(user)

    client.post(reverse("accounts:set_language"), {"language": "fr", "next": "/me/"})

    user.refresh_from_db()
    assert user.language == "fr"
    assert lang_of(client.get("/")) == "fr"


def test_switcher_refuses_an_unknown_language_and_changes_nothing(client):
    user = UserFactory(language="de")
    client.force_login(user)

    response = client.post(reverse("accounts:set_language"), {"language": "xx"})

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.language == "de"


def test_switcher_ignores_an_offsite_next(client):
    response = client.post(
        reverse("accounts:set_language"),
        {"language": "de", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil")


def test_every_page_has_the_switcher_with_each_language(client):
    html = client.get("/").content.decode()
    assert 'id="language-switcher"' in html
    for code in ("en", "fr", "es", "de", "ja", "pt-br"):
        assert f'<option value="{code}" lang="{code}"' in html


def test_accepting_the_detected_zone_saves_it_for_the_session(client):
    event = EventFactory(timezone="America/Los_Angeles")

    response = client.post(
        reverse("accounts:set_timezone"),
        {"timezone": "Asia/Tokyo", "next": event.get_absolute_url()},
    )

    assert response.status_code == 302
    assert client.session[SESSION_TIMEZONE] == "Asia/Tokyo"
    page = client.get(event.get_absolute_url()).content.decode()
    assert "Your time:" in page and "JST" in page


def test_accepting_the_detected_zone_saves_it_to_the_profile(client):
    user = UserFactory(timezone="")
    client.force_login(user)

    client.post(reverse("accounts:set_timezone"), {"timezone": "Asia/Kolkata"})

    user.refresh_from_db()
    assert user.timezone == "Asia/Kolkata"


def test_an_unknown_zone_is_refused_and_changes_nothing(client):
    response = client.post(reverse("accounts:set_timezone"), {"timezone": "Mars/Base"})
    assert response.status_code == 400
    assert SESSION_TIMEZONE not in client.session


def test_the_offer_knows_the_zone_already_chosen(client):
    client.force_login(UserFactory(timezone="Europe/Berlin"))
    html = client.get("/").content.decode()
    assert 'data-viewer-zone="Europe/Berlin"' in html


def test_switcher_names_each_language_in_itself_whatever_the_page_language(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    for code, name in (
        ("en", "English"),
        ("fr", "Français"),
        ("es", "Español"),
        ("de", "Deutsch"),
        ("ja", "日本語"),
        ("pt-br", "Português Brasileiro"),
    ):
        assert (
            f'lang="{code}"{" selected" if code == "ja" else ""}>{name}</option>'
            in html
        )


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "Fri, March 6, 2099, 6 p.m. JST"),
        ("fr", "ven, 6 mars 2099, 18:00 JST"),
        ("de", "Fr, 6. März 2099, 18:00 JST"),
        ("ja", "2099年3月6日(金) 18:00 JST"),
    ],
)
def test_event_time_is_written_the_way_each_language_writes_it(
    client, language, written
):
    from datetime import UTC, datetime

    event = EventFactory(
        timezone="Asia/Tokyo",
        starts_at=datetime(2099, 3, 6, 9, 0, tzinfo=UTC),
        ends_at=datetime(2099, 3, 6, 12, 0, tzinfo=UTC),
    )
    page = client.get(event.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    assert written in page.content.decode()


# The timezone switcher's next ------------------------------------------------------
@pytest.mark.parametrize("target", ["-1", "a b", "日本語", "foo.bar"])
def test_set_timezone_with_an_odd_next_redirects_home(client, target):
    response = client.post(
        reverse("accounts:set_timezone"), {"timezone": "Asia/Tokyo", "next": target}
    )
    assert (response.status_code, response["Location"]) == (302, "/")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example"]
)
def test_set_timezone_never_redirects_offsite(client, target):
    response = client.post(
        reverse("accounts:set_timezone"), {"timezone": "Asia/Tokyo", "next": target}
    )
    assert (response.status_code, response["Location"]) == (302, "/")


def test_set_timezone_keeps_a_local_next_with_its_query(client):
    response = client.post(
        reverse("accounts:set_timezone"),
        {"timezone": "Asia/Tokyo", "next": "/cities/tokyo/?page=2"},
    )
    assert (response.status_code, response["Location"]) == (
        302,
        "/cities/tokyo/?page=2",
    )
