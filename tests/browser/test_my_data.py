"""An attendee downloads their data, then deletes their account; the person waiting
gets the seat."""

import json
import re

from playwright.sync_api import expect

from accounts.models import User
from events import services
from events.models import Registration
from tests.browser.test_attendee_path import FACTORY_PASSWORD, PASSWORD_LABEL, log_in
from tests.factories import EventFactory, UserFactory

Status = Registration.Status


def test_attendee_downloads_their_data_then_deletes_the_account(live_server, page):
    event = EventFactory(title="Lisbon stop", slug="lisbon-stop", capacity=1)
    attendee = UserFactory(email="ada@example.com", name="Ada Attendee")
    waiting = UserFactory()
    seat = services.register(event=event, user=attendee)
    queue = services.register(event=event, user=waiting)
    assert (seat.status, queue.status) == (Status.CONFIRMED, Status.WAITLISTED)

    log_in(page, live_server, email=attendee.email, password=FACTORY_PASSWORD)
    page.goto(f"{live_server.url}/me/settings/")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download my data").click()
    download = downloading.value

    assert re.fullmatch(
        r"turnout-my-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename
    )
    with open(download.path(), encoding="utf-8") as file:
        data = json.load(file)
    assert (data["profile"]["email"], data["profile"]["name"]) == (
        "ada@example.com",
        "Ada Attendee",
    )
    assert [
        (r["event"]["title"], r["event"]["slug"], r["status"], r["ticket_code"])
        for r in data["registrations"]
    ] == [("Lisbon stop", "lisbon-stop", "confirmed", seat.ticket_code)]
    assert [(e["kind"], e["to"]) for e in data["emails"]] == [
        ("confirmed", "ada@example.com")
    ]

    page.get_by_role("link", name="Delete my account").click()
    # allauth asks for the password again before anything this grave.
    page.get_by_label(PASSWORD_LABEL).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Confirm", exact=True).click()

    expect(
        page.get_by_role("heading", name="Delete your account?", level=1)
    ).to_be_visible()
    expect(page.get_by_test_id("to-cancel")).to_contain_text("Lisbon stop")
    page.get_by_role("button", name="Yes, delete my account").click()

    expect(
        page.get_by_role("heading", name="Your account is deleted", level=1)
    ).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert not User.objects.filter(pk=attendee.pk).exists()
    seat.refresh_from_db()
    queue.refresh_from_db()
    assert (seat.status, seat.user) == (Status.CANCELLED, None)
    assert (queue.status, queue.user) == (Status.CONFIRMED, waiting)
