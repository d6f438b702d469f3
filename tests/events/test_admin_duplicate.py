"""The admin's "Duplicate to another city": a draft copy, every language checked, all or nothing."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Event, Registration
from tests.factories import EventFactory, UserFactory
from tests.support.admin import act, events_url, logged

pytestmark = pytest.mark.django_db

Status = Registration.Status


def test_duplicate_makes_a_draft_in_another_city_at_its_local_time(admin_client):
    event = EventFactory(
        title="Turnout San Francisco", city="San Francisco", capacity=120
    )
    services.register(event=event, user=UserFactory())
    day = (timezone.now() + timedelta(days=60)).date()

    form = act(admin_client, events_url(), "duplicate", [event])
    assert form.status_code == 200
    response = act(
        admin_client,
        events_url(),
        "duplicate",
        [event],
        confirm="yes",
        title="Turnout Tokyo",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        starts_at_0=day.isoformat(),
        starts_at_1="18:30:00",
        venue_name="Shibuya Hall",
        venue_address="1-1 Shibuya, Tokyo",
    )

    copy = Event.objects.exclude(pk=event.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:events_event_change", args=[copy.pk])
    assert (copy.title, copy.city, copy.country.code, copy.timezone) == (
        "Turnout Tokyo",
        "Tokyo",
        "JP",
        "Asia/Tokyo",
    )
    local = copy.starts_at.astimezone(copy.zone)
    assert (local.date(), local.strftime("%H:%M")) == (day, "18:30")
    assert copy.ends_at - copy.starts_at == event.ends_at - event.starts_at
    assert (copy.status, copy.capacity, copy.registrations.count()) == (
        Event.Status.DRAFT,
        120,
        0,
    )
    assert copy.slug != event.slug and copy.slug.startswith("turnout-tokyo-")


def test_duplicate_with_bad_input_shows_the_form_again_and_creates_nothing(
    admin_client,
):
    event = EventFactory()

    response = act(
        admin_client,
        events_url(),
        "duplicate",
        [event],
        confirm="yes",
        title="Copy",
        city="Paris",
        country="FR",
        timezone="Mars/Olympus_Mons",
        starts_at_0="not a date",
        starts_at_1="18:00",
        venue_name="",
        venue_address="",
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice." in page and "Enter a valid date." in page
    assert Event.objects.count() == 1


def test_duplicate_without_a_title_puts_the_new_city_in_every_language(
    admin_client,
):
    event = EventFactory(title="Turnout San Francisco", city="San Francisco")
    event.set_current_language("fr")
    event.title = "Turnout San Francisco (en français)"
    event.save()
    day = (timezone.now() + timedelta(days=30)).date()

    act(
        admin_client,
        events_url(),
        "duplicate",
        [event],
        confirm="yes",
        title="",
        city="Paris",
        country="FR",
        timezone="Europe/Paris",
        starts_at_0=day.isoformat(),
        starts_at_1="19:00:00",
        venue_name="Station F",
        venue_address="5 Parvis Alan Turing, Paris",
    )

    copy = Event.objects.exclude(pk=event.pk).get()
    assert {t.language_code: t.title for t in copy.translations.all()} == {
        "en": "Turnout Paris",
        "fr": "Turnout Paris (en français)",
    }
    assert copy.slug.startswith("turnout-paris-")


def duplicate_to(client, event, **fields):
    day = (timezone.now() + timedelta(days=30)).date()
    form = {
        "confirm": "yes",
        "title": "",
        "city": "Paris",
        "country": "FR",
        "timezone": "Europe/Paris",
        "starts_at_0": day.isoformat(),
        "starts_at_1": "19:00:00",
        "venue_name": "Station F",
        "venue_address": "5 Parvis Alan Turing, Paris",
    }
    return act(client, events_url(), "duplicate", [event], **{**form, **fields})


def test_duplicate_checks_the_title_in_every_language_and_creates_nothing(
    admin_client,
):
    event = EventFactory(title="Turnout San Francisco", city="San Francisco")
    event.set_current_language("fr")
    event.title = "Turnout San Francisco : " + "x" * 170  # 194 of 200 characters
    event.save()

    response = duplicate_to(admin_client, event, city="Saint-Rémy-de-Provence")

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "title": [
            "The copy's title in French: Ensure this value has at most 200 "
            "characters (it has 203)."
        ]
    }
    assert Event.objects.count() == 1


def test_duplicate_that_fails_at_its_last_step_leaves_no_draft(
    admin_client, monkeypatch
):
    event = EventFactory(title="Turnout San Francisco", city="San Francisco")

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    # The audit record is written last: when it fails, the copy goes with it.
    monkeypatch.setattr(LogEntry.objects, "log_actions", broken)
    with pytest.raises(RuntimeError):
        duplicate_to(admin_client, event)

    assert list(Event.objects.values_list("pk", flat=True)) == [event.pk]


def test_duplicate_records_the_copy_once(admin_client, admin_user):
    event = EventFactory(title="Turnout San Francisco", city="San Francisco")

    duplicate_to(admin_client, event)

    copy = Event.objects.exclude(pk=event.pk).get()
    assert logged(copy) == [f"Copied from {event.slug}."]
