"""The attendee's ticket: its page, its QR code, and the ticket in the emails."""

import re
from email import message_from_bytes

import pytest
import segno
from django.urls import reverse

from checkin import services as checkin_services
from events import services
from events.messages import Kind, for_registration
from notifications import outbox
from notifications.models import Message
from tests.factories import RegistrationFactory, UserFactory
from tests.support.door import at_the_door, grouped

pytestmark = pytest.mark.django_db


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
    outbox.queue([for_registration(reminded, Kind.REMINDER, key="1")])

    sent = [
        m for m in mailbox() if m.to in ([waiting.user.email], [reminded.user.email])
    ]

    assert len(sent) == 2
    for email in sent:
        assert "image/png" not in mime_tree(email)
        assert "Ticket code" not in email.body
        assert "cid:" not in email.alternatives[0][0]


def test_ticket_page_says_when_it_was_checked_in(client):
    registration = services.register(event=at_the_door(), user=UserFactory())
    checkin_services.check_in(
        event=registration.event, code=registration.ticket_code, by=None
    )
    client.force_login(registration.user)

    page = client.get(reverse("events:ticket", args=[registration.ticket_code]))

    assert "Checked in" in page.content.decode()
