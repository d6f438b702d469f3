"""The door: check_in, the check-in page and its scan, the counter, the names shown.

The attendee's ticket is in test_tickets.py, the two-doors race in test_concurrency.py."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from checkin import exceptions as checkin_exceptions
from checkin import services as checkin_services
from checkin.views import door_name
from events import services
from events.models import Registration
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.support.door import (
    JSON,
    VOLUNTEERS,
    at_the_door,
    grouped,
    local_hhmm,
    make_volunteer,
    other_code,
)

pytestmark = pytest.mark.django_db

Status = Registration.Status


@pytest.fixture
def volunteer(db):
    return make_volunteer(name="Vera Volunteer")


@pytest.fixture
def door(client, volunteer):
    """A test client signed in as the volunteer."""
    client.force_login(volunteer)
    return client


def scan_url(event) -> str:
    return reverse("checkin:scan", kwargs={"slug": event.slug})


def page_url(event) -> str:
    return reverse("checkin:door", kwargs={"slug": event.slug})


def stats_url(event) -> str:
    return reverse("checkin:stats", kwargs={"slug": event.slug})


def result_panel(response) -> tuple[str, str]:
    """(status, visible text) of the result panel on a rendered check-in page."""
    html = response.content.decode()
    found = re.search(r'data-status="([^"]*)">(.*?)</div>', html, re.S)
    assert found, html
    text = " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())
    return found.group(1), text.replace("&#x27;", "'")


def counter_text(response) -> str:
    html = response.content.decode()
    found = re.search(r'data-testid="counter">(.*?)</p>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


# The service --------------------------------------------------------------------


def test_check_in_valid_ticket_records_time_and_volunteer(event, confirmed, volunteer):
    before = timezone.now()

    result = checkin_services.check_in(
        event=event, code=confirmed.ticket_code, by=volunteer
    )

    assert result.first is True
    assert result.registration.pk == confirmed.pk
    confirmed.refresh_from_db()
    assert before <= confirmed.checked_in_at <= timezone.now()
    assert confirmed.checked_in_by == volunteer


def test_check_in_ticket_for_another_event_is_refused(event, confirmed, volunteer):
    elsewhere = at_the_door()

    with pytest.raises(checkin_exceptions.TicketForAnotherEvent) as refusal:
        checkin_services.check_in(
            event=elsewhere, code=confirmed.ticket_code, by=volunteer
        )

    assert refusal.value.message == "This ticket is for another event."
    confirmed.refresh_from_db()
    assert (confirmed.checked_in_at, confirmed.checked_in_by) == (None, None)


def test_check_in_cancelled_registration_is_refused(event, confirmed, volunteer):
    services.cancel_registration(registration=confirmed)

    with pytest.raises(checkin_exceptions.TicketNotConfirmed) as refusal:
        checkin_services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)

    assert refusal.value.message == "This registration was cancelled."
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is None


def test_check_in_waitlisted_registration_is_refused(event, volunteer):
    for _ in range(event.capacity):
        services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())
    assert waiting.status == Status.WAITLISTED

    with pytest.raises(checkin_exceptions.TicketNotConfirmed) as refusal:
        checkin_services.check_in(event=event, code=waiting.ticket_code, by=volunteer)

    assert (
        refusal.value.message
        == "This person is on the waitlist, not confirmed: no seat yet."
    )
    waiting.refresh_from_db()
    assert waiting.checked_in_at is None


def test_check_in_second_time_reports_the_first_time_and_who(
    event, confirmed, volunteer
):
    first = checkin_services.check_in(
        event=event, code=confirmed.ticket_code, by=volunteer
    )
    someone_else = make_volunteer()

    second = checkin_services.check_in(
        event=event, code=confirmed.ticket_code, by=someone_else
    )

    assert second.first is False
    assert second.registration.checked_in_at == first.registration.checked_in_at
    assert second.registration.checked_in_by == volunteer
    confirmed.refresh_from_db()
    assert confirmed.checked_in_by == volunteer


@pytest.mark.parametrize(
    "tamper",
    [other_code, lambda code: code[:-1], lambda code: "not a ticket", lambda code: ""],
    ids=["one-character-changed", "one-character-short", "garbage", "empty"],
)
def test_check_in_tampered_code_is_refused(event, confirmed, volunteer, tamper):
    with pytest.raises(checkin_exceptions.UnknownTicket) as refusal:
        checkin_services.check_in(
            event=event, code=tamper(confirmed.ticket_code), by=volunteer
        )

    assert refusal.value.message == "No ticket has this code. Check it and try again."
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is None


def test_check_in_typed_code_with_lowercase_dashes_and_spaces_works(
    event, confirmed, volunteer
):
    typed = " " + grouped(confirmed.ticket_code).lower().replace("-", " - ") + " "

    result = checkin_services.check_in(event=event, code=typed, by=volunteer)

    assert (result.registration.pk, result.first) == (confirmed.pk, True)


def test_check_in_at_a_cancelled_event_is_refused(event, confirmed, volunteer):
    services.cancel_event(event=event)

    with pytest.raises(checkin_exceptions.EventNotOpenForCheckIn):
        checkin_services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)


def test_volunteer_group_grants_only_check_in():
    group = Group.objects.get(name=VOLUNTEERS)

    assert list(
        group.permissions.values_list("content_type__app_label", "codename")
    ) == [("events", "check_in")]


# Who may use the door -------------------------------------------------------------
def test_checkin_page_anonymous_is_sent_to_log_in(client, event):
    response = client.get(page_url(event))

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={page_url(event)}"


@pytest.mark.parametrize("url", [page_url, stats_url])
def test_checkin_pages_attendee_without_permission_is_403(attendee_client, event, url):
    response = attendee_client.get(url(event))

    assert response.status_code == 403
    assert "You don't have permission to do that." in response.content.decode()


def test_checkin_scan_attendee_without_permission_is_403_and_checks_in_nobody(
    attendee_client, event, confirmed
):
    response = attendee_client.post(
        scan_url(event), {"code": confirmed.ticket_code}, **JSON
    )

    assert response.status_code == 403
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is None


def test_checkin_page_volunteer_who_is_not_staff_sees_the_door(
    door, volunteer, event, confirmed
):
    assert volunteer.is_staff is False

    response = door.get(page_url(event))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<h1 class="h3 mb-1">{event.title}</h1>' in html
    assert counter_text(response) == "0 checked in / 1 confirmed"
    assert 'role="status" aria-live="polite"' in html
    assert re.search(r'<input[^>]*name="code"[^>]*autofocus', html)
    assert re.search(r'<input[^>]*name="code"[^>]*autocomplete="off"', html)
    assert f'action="{scan_url(event)}"' in html


def test_checkin_page_unknown_event_is_404(door):
    response = door.get(reverse("checkin:door", kwargs={"slug": "no-such-event"}))

    assert response.status_code == 404


def test_checkin_scan_get_is_405(door, event):
    response = door.get(scan_url(event))

    assert response.status_code == 405


# The scan, as JSON (with JavaScript) -----------------------------------------------
def test_checkin_scan_valid_code_answers_checked_in(door, volunteer, event, confirmed):
    response = door.post(scan_url(event), {"code": confirmed.ticket_code}, **JSON)

    assert response.status_code == 200
    confirmed.refresh_from_db()
    assert response.json() == {
        "ok": True,
        "status": "checked_in",
        "headline": "Ada Lovelace",
        "message": "Checked in ✓",
        "name": "Ada Lovelace",
        "first": True,
        "checked_in_at": confirmed.checked_in_at.isoformat(),
        "checked_in_at_local": local_hhmm(confirmed.checked_in_at, event),
        "checked_in_by": "Vera Volunteer",
    }


def test_checkin_scan_second_time_flags_the_first_time_and_who(
    client, volunteer, event, confirmed
):
    checkin_services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)
    confirmed.refresh_from_db()
    client.force_login(make_volunteer(name="Sam Second"))

    response = client.post(scan_url(event), {"code": confirmed.ticket_code}, **JSON)

    at = local_hhmm(confirmed.checked_in_at, event)
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "status": "already_checked_in",
        "headline": "Ada Lovelace",
        "message": f"Already checked in at {at} by Vera Volunteer.",
        "name": "Ada Lovelace",
        "first": False,
        "checked_in_at": confirmed.checked_in_at.isoformat(),
        "checked_in_at_local": at,
        "checked_in_by": "Vera Volunteer",
    }


def test_checkin_scan_refused_ticket_answers_200_with_the_reason(
    door, event, confirmed
):
    elsewhere = at_the_door()

    response = door.post(scan_url(elsewhere), {"code": confirmed.ticket_code}, **JSON)

    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "status": "other_event",
        "headline": "Not checked in",
        "message": "This ticket is for another event.",
        "name": "",
        "first": False,
        "checked_in_at": "",
        "checked_in_at_local": "",
        "checked_in_by": "",
    }


@pytest.mark.parametrize("code", ["", "   "], ids=["empty", "blank"])
def test_checkin_scan_empty_code_is_400_with_a_clear_message(door, event, code):
    response = door.post(scan_url(event), {"code": code}, **JSON)

    assert response.status_code == 400
    assert (response.json()["status"], response.json()["message"]) == (
        "invalid",
        "Type or scan a ticket code.",
    )


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("A" * 100_000, 400, "invalid"),
        ("BAD\x00CODE", 400, "invalid"),
        ("🎟️ Straße ünïcödé ☃", 200, "unknown"),
        ("https://example.com/not-a-ticket?x=1", 200, "unknown"),
        ("' OR 1=1 --", 200, "unknown"),
    ],
    ids=["very-long", "nul-character", "unicode", "another-qr-code", "sql-ish"],
)
def test_checkin_scan_odd_input_is_refused_never_500(
    door, event, confirmed, code, status, reason
):
    response = door.post(scan_url(event), {"code": code}, **JSON)

    assert (response.status_code, response.json()["status"]) == (status, reason)
    assert response.json()["ok"] is False
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is None


def test_checkin_scan_typed_with_lowercase_and_dashes_checks_in(door, event, confirmed):
    typed = grouped(confirmed.ticket_code).lower()

    response = door.post(scan_url(event), {"code": typed}, **JSON)

    assert (response.json()["status"], response.json()["name"]) == (
        "checked_in",
        "Ada Lovelace",
    )


# The scan without JavaScript: the page comes back with the result --------------------
def test_checkin_scan_without_javascript_renders_the_page_with_the_result(
    door, event, confirmed
):
    response = door.post(scan_url(event), {"code": confirmed.ticket_code})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert result_panel(response) == ("checked_in", "Ada Lovelace Checked in ✓")
    assert counter_text(response) == "1 checked in / 1 confirmed"


def test_checkin_scan_without_javascript_shows_a_refusal(door, event, volunteer):
    for _ in range(event.capacity):
        services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())

    response = door.post(scan_url(event), {"code": waiting.ticket_code})

    assert response.status_code == 200
    assert result_panel(response) == (
        "not_confirmed",
        "Not checked in This person is on the waitlist, not confirmed: no seat yet.",
    )
    assert 'class="alert alert-danger mb-0"' in response.content.decode()


def test_checkin_scan_without_javascript_empty_code_is_400_page(door, event):
    response = door.post(scan_url(event), {"code": ""})

    assert response.status_code == 400
    assert result_panel(response) == (
        "invalid",
        "Not checked in Type or scan a ticket code.",
    )


# The counter ---------------------------------------------------------------------
def test_checkin_stats_counts_checked_in_and_confirmed_in_one_query(
    door, volunteer, event, confirmed, django_assert_num_queries
):
    services.register(event=event, user=UserFactory())
    services.register(event=event, user=UserFactory())  # waitlisted: not counted
    elsewhere = RegistrationFactory(event=at_the_door())  # another event
    checkin_services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)
    checkin_services.check_in(
        event=elsewhere.event, code=elsewhere.ticket_code, by=volunteer
    )
    door.get(stats_url(event))  # the session and permissions are now cached

    # session, user, the user's and the group's permissions, then the counter itself
    with django_assert_num_queries(5) as queries:
        response = door.get(stats_url(event))

    assert response.json() == {"checked_in": 1, "confirmed": 2}
    assert '"events_event"."slug"' in queries.captured_queries[-1]["sql"]


def test_volunteer_lands_on_a_page_that_links_the_doors_open_soon(client):
    volunteer = make_volunteer(name="Vera Volunteer")
    soon = EventFactory(
        title="Soon",
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, hours=3),
    )
    EventFactory(
        title="Far",
        starts_at=timezone.now() + timedelta(days=60),
        ends_at=timezone.now() + timedelta(days=60, hours=3),
    )
    client.force_login(volunteer)

    page = client.get(reverse("events:my_registrations")).content.decode()

    assert reverse("checkin:door", args=[soon.slug]) in page
    assert "Far" not in page
    client.force_login(UserFactory())
    assert (
        "/checkin/"
        not in client.get(reverse("events:my_registrations")).content.decode()
    )


# What the door shows of a person: a name, never an address ---------------------------
@pytest.mark.parametrize(
    ("name", "email", "shown"),
    [
        ("Ada Lovelace", "ada@example.com", "Ada Lovelace"),
        ("", "grace.hopper@navy.example", "g…@navy.example"),
        ("", "x@example.org", "x…@example.org"),
    ],
    ids=["named", "no-name", "one-letter"],
)
def test_door_name_is_the_name_or_a_masked_address(name, email, shown):
    assert door_name(UserFactory.build(name=name, email=email)) == shown


def test_door_name_of_an_erased_attendee_is_anonymous():
    assert door_name(None) == "anonymous"


def test_checkin_scan_of_someone_without_a_name_never_shows_their_address(
    client, event
):
    attendee = services.register(
        event=event, user=UserFactory(name="", email="grace.hopper@navy.example")
    )
    first_volunteer = make_volunteer(name="", email="vera.v@volunteers.example")
    checkin_services.check_in(
        event=event, code=attendee.ticket_code, by=first_volunteer
    )
    client.force_login(make_volunteer(name="Sam Second"))

    answer = client.post(scan_url(event), {"code": attendee.ticket_code}, **JSON)
    page = client.post(scan_url(event), {"code": attendee.ticket_code})

    outcome = answer.json()
    assert (outcome["headline"], outcome["name"], outcome["checked_in_by"]) == (
        "g…@navy.example",
        "g…@navy.example",
        "v…@volunteers.example",
    )
    assert outcome["message"].endswith(" by v…@volunteers.example.")
    for text in (answer.content.decode(), page.content.decode()):
        assert "grace.hopper" not in text
        assert "vera.v" not in text
