"""Tickets and the door: check_in, the check-in page, the ticket page, the QR email."""

import re
from datetime import timedelta
from email import message_from_bytes

import pytest
import segno
from django.contrib.auth.models import Group, Permission
from django.db.models.query import QuerySet
from django.urls import reverse
from django.utils import timezone

from events import exceptions, outbox, services
from events.models import Message, Registration
from events.views_checkin import door_name
from tests.events.test_concurrency import race
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status
VOLUNTEERS = "Check-in volunteers"
JSON = {"HTTP_ACCEPT": "application/json"}


def make_volunteer(**fields):
    """A user in the "Check-in volunteers" group: not staff, only events.check_in.

    The group comes from migration 0005; transactional tests flush it, so it is
    made again here when missing.
    """
    group, _ = Group.objects.get_or_create(name=VOLUNTEERS)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="events", codename="check_in")
    )
    user = UserFactory(**fields)
    user.groups.add(group)
    return user


def other_code(code: str) -> str:
    """The code with its last character changed to another valid one."""
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def grouped(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def local_hhmm(moment, event) -> str:
    local = moment.astimezone(event.zone)
    return f"{local:%H:%M} {local.tzname()}"


def at_the_door(**fields):
    """An event starting in an hour: its door is open (rules.checkin_refusal)."""
    return EventFactory(starts_at=timezone.now() + timedelta(hours=1), **fields)


@pytest.fixture
def event():
    return at_the_door(capacity=2, title="Tour stop Berlin")


@pytest.fixture
def confirmed(event):
    registration = services.register(event=event, user=UserFactory(name="Ada Lovelace"))
    assert registration.status == Status.CONFIRMED
    return registration


@pytest.fixture
def volunteer(db):
    return make_volunteer(name="Vera Volunteer")


@pytest.fixture
def door(client, volunteer):
    """A test client signed in as the volunteer."""
    client.force_login(volunteer)
    return client


def scan_url(event) -> str:
    return reverse("events:checkin_scan", kwargs={"slug": event.slug})


def page_url(event) -> str:
    return reverse("events:checkin", kwargs={"slug": event.slug})


def stats_url(event) -> str:
    return reverse("events:checkin_stats", kwargs={"slug": event.slug})


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

    result = services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)

    assert result.first is True
    assert result.registration.pk == confirmed.pk
    confirmed.refresh_from_db()
    assert before <= confirmed.checked_in_at <= timezone.now()
    assert confirmed.checked_in_by == volunteer


def test_check_in_ticket_for_another_event_is_refused(event, confirmed, volunteer):
    elsewhere = at_the_door()

    with pytest.raises(exceptions.TicketForAnotherEvent) as refusal:
        services.check_in(event=elsewhere, code=confirmed.ticket_code, by=volunteer)

    assert refusal.value.message == "This ticket is for another event."
    confirmed.refresh_from_db()
    assert (confirmed.checked_in_at, confirmed.checked_in_by) == (None, None)


def test_check_in_cancelled_registration_is_refused(event, confirmed, volunteer):
    services.cancel_registration(registration=confirmed)

    with pytest.raises(exceptions.TicketNotConfirmed) as refusal:
        services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)

    assert refusal.value.message == "This registration was cancelled."
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is None


def test_check_in_waitlisted_registration_is_refused(event, volunteer):
    for _ in range(event.capacity):
        services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())
    assert waiting.status == Status.WAITLISTED

    with pytest.raises(exceptions.TicketNotConfirmed) as refusal:
        services.check_in(event=event, code=waiting.ticket_code, by=volunteer)

    assert (
        refusal.value.message
        == "This person is on the waitlist, not confirmed: no seat yet."
    )
    waiting.refresh_from_db()
    assert waiting.checked_in_at is None


def test_check_in_second_time_reports_the_first_time_and_who(
    event, confirmed, volunteer
):
    first = services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)
    someone_else = make_volunteer()

    second = services.check_in(event=event, code=confirmed.ticket_code, by=someone_else)

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
    with pytest.raises(exceptions.UnknownTicket) as refusal:
        services.check_in(event=event, code=tamper(confirmed.ticket_code), by=volunteer)

    assert refusal.value.message == "No ticket has this code. Check it and try again."
    confirmed.refresh_from_db()
    assert confirmed.checked_in_at is None


def test_check_in_typed_code_with_lowercase_dashes_and_spaces_works(
    event, confirmed, volunteer
):
    typed = " " + grouped(confirmed.ticket_code).lower().replace("-", " - ") + " "

    result = services.check_in(event=event, code=typed, by=volunteer)

    assert (result.registration.pk, result.first) == (confirmed.pk, True)


def test_check_in_at_a_cancelled_event_is_refused(event, confirmed, volunteer):
    services.cancel_event(event=event)

    with pytest.raises(exceptions.EventNotOpenForCheckIn):
        services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)


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
    response = door.get(reverse("events:checkin", kwargs={"slug": "no-such-event"}))

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
    services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)
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
    services.check_in(event=event, code=confirmed.ticket_code, by=volunteer)
    services.check_in(event=elsewhere.event, code=elsewhere.ticket_code, by=volunteer)
    door.get(stats_url(event))  # the session and permissions are now cached

    # session, user, the user's and the group's permissions, then the counter itself
    with django_assert_num_queries(5) as queries:
        response = door.get(stats_url(event))

    assert response.json() == {"checked_in": 1, "confirmed": 2}
    assert '"events_event"."slug"' in queries.captured_queries[-1]["sql"]


# The attendee's ticket -----------------------------------------------------------
def ticket_url(registration) -> str:
    return reverse("events:ticket", kwargs={"code": registration.ticket_code})


def qr_path(svg_or_html: str) -> str:
    """The dark modules of the (first) QR code in the markup."""
    return re.search(r'<path[^>]*stroke="[^"]*"[^>]* d="([^"]+)"', svg_or_html).group(1)


def test_ticket_page_shows_the_owner_code_and_a_qr_of_the_plain_code(
    client, event, confirmed
):
    client.force_login(confirmed.user)

    response = client.get(ticket_url(confirmed))

    assert response.status_code == 200
    html = response.content.decode()
    code = confirmed.ticket_code
    assert f'data-testid="ticket-code">{grouped(code)}</p>' in html
    assert "Ada Lovelace" in html and event.venue_name in html
    assert f"<title>QR code for ticket {grouped(code)}</title>" in html
    # A full QR code (not Micro QR, which phones do not read) of the plain code.
    expected = segno.make_qr(code, error="m")
    assert qr_path(html) == qr_path(expected.svg_inline())
    assert qr_path(html) != qr_path(segno.make(code, error="m").svg_inline())


def test_ticket_page_of_another_user_is_404(attendee_client, confirmed):
    response = attendee_client.get(ticket_url(confirmed))

    assert response.status_code == 404


@pytest.mark.parametrize("code", ["nope", "A" * 5000, "%00" * 12])
def test_ticket_page_garbage_code_is_404(attendee_client, code):
    response = attendee_client.get(f"/me/tickets/{code}/")

    assert response.status_code == 404


def test_ticket_page_anonymous_is_sent_to_log_in(client, confirmed):
    response = client.get(ticket_url(confirmed))

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={ticket_url(confirmed)}"


def test_ticket_page_waitlisted_shows_the_status_and_no_qr(client, event):
    for _ in range(event.capacity):
        services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())
    client.force_login(waiting.user)

    response = client.get(ticket_url(waiting))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" not in html
    assert re.search(
        r'data-testid="ticket-status">\s*<span[^>]*>Waitlisted</span>', html
    )


def test_ticket_page_cancelled_shows_the_status_and_no_qr(client, confirmed):
    services.cancel_registration(registration=confirmed)
    client.force_login(confirmed.user)

    response = client.get(ticket_url(confirmed))

    html = response.content.decode()
    assert "<svg" not in html
    assert re.search(
        r'data-testid="ticket-status">\s*<span[^>]*>Cancelled</span>', html
    )
    assert "This ticket no longer lets anyone in." in html


def test_ticket_is_linked_from_my_registrations_and_the_event_page(client, confirmed):
    client.force_login(confirmed.user)
    link = f'href="{ticket_url(confirmed)}"'

    mine = client.get(reverse("events:my_registrations")).content.decode()
    detail = client.get(confirmed.event.get_absolute_url()).content.decode()

    assert mine.count(link) == 1
    assert detail.count(link) == 1


# The ticket in the confirmation email -------------------------------------------------
def mime_tree(email) -> list[str]:
    """The message's parts as indented content types, for an exact comparison."""
    lines = []

    def walk(part, depth):
        lines.append("  " * depth + part.get_content_type())
        if part.is_multipart():
            for child in part.get_payload():
                walk(child, depth + 1)

    walk(message_from_bytes(email.message().as_bytes()), 0)
    return lines


def parsed_parts(email) -> dict:
    parsed = message_from_bytes(email.message().as_bytes())
    return {part.get_content_type(): part for part in parsed.walk()}


@pytest.mark.parametrize("kind", ["confirmed", "promoted"])
def test_ticket_email_shows_the_code_and_an_inline_qr_png(mailbox, event, kind):
    if kind == "promoted":
        for _ in range(event.capacity):
            services.register(event=event, user=UserFactory())
        registration = services.register(event=event, user=UserFactory())
        services.promote(registration=registration)
    else:
        registration = services.register(event=event, user=UserFactory())
    message = Message.objects.get(registration=registration, kind=kind)

    sent = mailbox()

    (email,) = [
        m for m in sent if m.extra_headers["X-Turnout-Message"] == str(message.pk)
    ]

    code = registration.ticket_code
    assert mime_tree(email) == [
        "multipart/mixed",
        "  multipart/alternative",
        "    text/plain",
        "    multipart/related",
        "      text/html",
        "      image/png",
        "  text/calendar",
    ]
    parts = parsed_parts(email)
    image = parts["image/png"]
    cid = image["Content-ID"]
    assert cid == f"<ticket-{code}@testserver>"
    assert image.get_content_disposition() == "inline"
    png = image.get_payload(decode=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (int.from_bytes(png[at : at + 4], "big") for at in (16, 20))
    html = parts["text/html"].get_payload(decode=True).decode()
    assert f'src="cid:{cid[1:-1]}"' in html
    assert f'alt="QR code for ticket {grouped(code)}"' in html
    assert f'width="{width}" height="{height}"' in html
    assert f"http://testserver{ticket_url(registration)}" in html
    assert f"Ticket code: {grouped(code)}" in email.body
    assert parts["multipart/related"].get_param("type") == "text/html"


def test_waitlisted_and_reminder_emails_carry_no_ticket(mailbox, event):
    for _ in range(event.capacity):
        services.register(event=event, user=UserFactory())
    waiting = services.register(event=event, user=UserFactory())
    reminded = RegistrationFactory(event=event)
    outbox.queue([outbox.for_registration(reminded, Message.Kind.REMINDER, key="1")])

    sent = [
        m for m in mailbox() if m.to in ([waiting.user.email], [reminded.user.email])
    ]

    assert len(sent) == 2
    for email in sent:
        assert "image/png" not in mime_tree(email)
        assert "Ticket code" not in email.body
        assert "cid:" not in email.alternatives[0][0]


# Two doors, one ticket ---------------------------------------------------------------
def _two_doors_at_once():
    """Two volunteers scan the same ticket at once. Both scans read the ticket before
    either writes: the write gate of test_concurrency forces that interleaving."""
    registration = RegistrationFactory(event=at_the_door())
    doors = [make_volunteer(), make_volunteer()]
    calls = [
        lambda by=by: services.check_in(
            event=registration.event, code=registration.ticket_code, by=by
        )
        for by in doors
    ]
    results, errors = race(calls, all_at_once=True)
    assert errors == [None, None]
    registration.refresh_from_db()
    return registration, results


@pytest.fixture
def no_check_in_guard(monkeypatch):
    """The control: the UPDATE's "not checked in yet" condition is dropped, in
    Django's QuerySet.filter, so the update no longer decides who was first."""
    original = QuerySet.filter

    def filter_without_guard(self, *args, **kwargs):
        kwargs.pop("checked_in_at__isnull", None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "filter", filter_without_guard)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_check_in_same_code_at_two_doors_at_once_records_one_first():
    registration, results = _two_doors_at_once()

    assert sorted(result.first for result in results) == [False, True]
    (winner,) = [result for result in results if result.first]
    assert registration.checked_in_by == winner.registration.checked_in_by
    assert [r.registration.checked_in_at for r in results] == [
        registration.checked_in_at
    ] * 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_check_in_at_two_doors_without_the_guard_records_two_firsts(
    no_check_in_guard,
):
    """The control: the same race without the conditional UPDATE lets both scans
    think they were first, so the test above can fail."""
    registration, results = _two_doors_at_once()

    assert [result.first for result in results] == [True, True]


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

    assert reverse("events:checkin", args=[soon.slug]) in page
    assert "Far" not in page
    client.force_login(UserFactory())
    assert (
        "/checkin/"
        not in client.get(reverse("events:my_registrations")).content.decode()
    )


def test_ticket_page_says_when_it_was_checked_in(client):
    registration = services.register(event=at_the_door(), user=UserFactory())
    services.check_in(event=registration.event, code=registration.ticket_code, by=None)
    client.force_login(registration.user)

    page = client.get(reverse("events:ticket", args=[registration.ticket_code]))

    assert "Checked in" in page.content.decode()


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
    services.check_in(event=event, code=attendee.ticket_code, by=first_volunteer)
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
