import pytest
from django.core.management import call_command
from django.utils import timezone

from events import services
from events.models import Event, EventSeries, Registration

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        EventSeries.objects.count(),
        sorted(Event.objects.values_list("slug", "status", "capacity")),
        sorted(
            Registration.objects.values_list("event__slug", "user__email", "status")
        ),
    )


def test_load_demo_twice_duplicates_nothing():
    call_command("load_demo")
    first = snapshot()
    call_command("load_demo")
    assert snapshot() == first


def test_load_demo_has_the_tour_a_full_event_a_past_one_and_a_draft(client):
    call_command("load_demo")
    now = timezone.now()
    cities = [group.city for group in client.get("/").context["cities"]]
    assert cities == [
        "San Francisco",
        "London",
        "Paris",
        "Berlin",
        "Bangalore",
        "Tokyo",
        "São Paulo",
    ]
    assert Event.objects.filter(ends_at__lt=now).count() == 1
    assert list(
        Event.objects.filter(status=Event.Status.DRAFT).values_list("city", flat=True)
    ) == ["Seoul"]
    berlin = Event.objects.get(slug="berlin")
    statuses = sorted(berlin.registrations.values_list("status", flat=True))
    assert statuses == ["confirmed"] * 3 + ["waitlisted"] * 2
    assert len({e.timezone for e in Event.objects.all()}) == 8


def test_load_demo_events_cancelled_by_staff_stay_public_but_drafts_do_not(client):
    """The demo's published events were public (published_at), as if published."""
    call_command("load_demo")
    for event in Event.objects.all():
        services.cancel_event(event=event)

    public = sorted(
        slug
        for slug in Event.objects.values_list("slug", flat=True)
        if client.get(f"/events/{slug}/").status_code == 200
    )

    assert public == sorted(
        Event.objects.exclude(slug="seoul").values_list("slug", flat=True)
    )
    assert client.get("/events/seoul/").status_code == 404


def test_create_demo_staff_prints_working_credentials(
    client, settings, tmp_path, capsys
):
    settings.VAR_DIR = tmp_path
    call_command("create_demo_staff")
    call_command("create_demo_staff")
    output = capsys.readouterr().out
    password = output.strip().splitlines()[-1].split()[-1]
    assert output.count(password) == 2
    response = client.post(
        "/accounts/login/", {"login": "staff@turnout.localhost", "password": password}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
