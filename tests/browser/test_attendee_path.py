"""An attendee's path through the real pages: sign up, verify, register, wait, cancel."""

import re

from playwright.sync_api import Page, expect

from events import services
from events.models import Registration
from tests.factories import EventFactory, UserFactory

Status = Registration.Status
FACTORY_PASSWORD = "correct horse battery"
CONFIRMATION_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")
# crispy-forms appends "*" to a required field's label, and Playwright matches a
# pattern against the label's raw text, indentation included.
EMAIL_LABEL = re.compile(r"^\s*Email\*?\s*$")
PASSWORD_LABEL = re.compile(r"^\s*Password\*?\s*$")


def log_in(page: Page, live_server, *, email: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(EMAIL_LABEL).fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(
        page.get_by_role("heading", name="My registrations", level=1)
    ).to_be_visible()


def test_new_user_signs_up_verifies_registers_and_cancels(
    live_server, page, mailbox, settings
):
    # Links in emails are built on the site's public address, never the request's.
    settings.SITE_URL = live_server.url
    event = EventFactory(capacity=5)
    event_url = live_server.url + event.get_absolute_url()
    email = "newcomer@example.com"
    action = page.get_by_test_id("action")
    messages = page.get_by_role("status")

    page.goto(event_url)
    expect(page.get_by_role("heading", name=event.title, level=1)).to_be_visible()
    expect(page.get_by_test_id("seats")).to_have_text("5 seats left")
    page.get_by_role("button", name="Register", exact=True).click()

    expect(page).to_have_url(
        f"{live_server.url}/accounts/signup/?next={event.get_absolute_url()}"
    )
    expect(messages).to_contain_text(
        f"Create an account or sign in, then come back here to register for {event.title}."
    )
    page.get_by_label(EMAIL_LABEL).fill(email)
    page.get_by_label(PASSWORD_LABEL).fill("a-sturdy-passphrase-42")
    page.get_by_label("Your name", exact=True).fill("Nia Newcomer")
    page.get_by_role("button", name="Sign Up", exact=True).click()

    expect(
        page.get_by_role("heading", name="Verify Your Email Address", level=1)
    ).to_be_visible()
    assert [message.to for message in mailbox()] == [[email]]
    link = CONFIRMATION_LINK.search(mailbox()[0].body)
    assert link, mailbox()[0].body

    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm", exact=True).click()

    # The product promise: after verifying, the visitor is back on the event they
    # wanted, still signed in.
    expect(page).to_have_url(event_url)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Register", exact=True).click()

    expect(action).to_contain_text("You're in!")
    expect(messages).to_contain_text("Your seat is confirmed. See you there!")
    expect(page.get_by_test_id("seats")).to_have_text("4 seats left")
    registration = Registration.objects.get(event=event, user__email=email)
    assert registration.status == Status.CONFIRMED
    assert registration.user.name == "Nia Newcomer"

    action.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", name="Give up your seat?")).to_be_visible()
    page.get_by_role("button", name="Yes, give up my seat").click()

    expect(action.get_by_role("button", name="Register", exact=True)).to_be_visible()
    expect(messages).to_have_text(
        "Your registration is cancelled. Thanks for freeing the seat."
    )
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED
    assert list(
        Registration.objects.filter(event=event).values_list("user__email", "status")
    ) == [(email, Status.CANCELLED)]


def test_waitlisted_user_sees_promotion_when_seat_frees(live_server, new_page):
    event = EventFactory(capacity=1)
    event_url = live_server.url + event.get_absolute_url()
    alice = UserFactory()
    bob = UserFactory()
    alice_registration = services.register(event=event, user=alice)
    assert alice_registration.status == Status.CONFIRMED

    bob_page = new_page()
    log_in(bob_page, live_server, email=bob.email, password=FACTORY_PASSWORD)
    bob_page.goto(event_url)
    expect(bob_page.get_by_test_id("seats")).to_have_text("Full")
    bob_page.get_by_role("button", name="Join the waitlist").click()

    expect(bob_page.get_by_test_id("action")).to_contain_text(
        "You're #1 on the waitlist."
    )
    expect(bob_page.get_by_role("status")).to_have_text(
        "The event is full, so you're on the waitlist."
    )
    bob_registration = Registration.objects.get(event=event, user=bob)
    assert bob_registration.status == Status.WAITLISTED

    alice_page = new_page()
    log_in(alice_page, live_server, email=alice.email, password=FACTORY_PASSWORD)
    alice_page.goto(event_url)
    alice_action = alice_page.get_by_test_id("action")
    expect(alice_action).to_contain_text("You're in!")
    alice_action.get_by_role("link", name="Cancel my registration").click()
    alice_page.get_by_role("button", name="Yes, give up my seat").click()

    expect(alice_page.get_by_role("status")).to_have_text(
        "Your registration is cancelled. Thanks for freeing the seat."
    )
    # Bob took the freed seat at once, so the event is full again for Alice.
    expect(alice_action.get_by_role("button", name="Join the waitlist")).to_be_visible()

    bob_page.reload()
    expect(bob_page.get_by_test_id("action")).to_contain_text("You're in!")
    expect(bob_page.get_by_test_id("seats")).to_have_text("Full")
    alice_registration.refresh_from_db()
    bob_registration.refresh_from_db()
    assert alice_registration.status == Status.CANCELLED
    assert bob_registration.status == Status.CONFIRMED
