"""At the door: a volunteer signs in and checks an attendee in by typing the code."""

from playwright.sync_api import expect

from events import services
from events.models import Registration
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_attendee_path import FACTORY_PASSWORD, log_in
from tests.factories import UserFactory
from tests.support.door import at_the_door, grouped, make_volunteer


def test_volunteer_checks_in_an_attendee_by_typing_the_code(live_server, page):
    event = at_the_door(capacity=5, title="Tour stop Lisbon")
    attendee = services.register(event=event, user=UserFactory(name="Ada Lovelace"))
    for _ in range(2):
        services.register(event=event, user=UserFactory())
    volunteer = make_volunteer(name="Vera Volunteer")
    assert volunteer.is_staff is False

    log_in(page, live_server, email=volunteer.email, password=FACTORY_PASSWORD)
    page.goto(f"{live_server.url}/checkin/{event.slug}/")
    expect(
        page.get_by_role("heading", name="Tour stop Lisbon", level=1)
    ).to_be_visible()
    counter = page.get_by_test_id("counter")
    result = page.get_by_test_id("checkin-result")
    code_box = page.get_by_label("Ticket code")
    expect(counter).to_have_text("0 checked in / 3 confirmed")
    expect(code_box).to_be_focused()
    # Headless Chromium on Linux has no BarcodeDetector: no camera button.
    expect(page.get_by_role("button", name="Scan with the camera")).to_be_hidden()

    # Typed as a person reads it off a phone: lower case, with the dashes.
    code_box.fill(grouped(attendee.ticket_code).lower())
    page.get_by_role("button", name="Check in", exact=True).click()

    expect(result).to_have_text("Ada Lovelace Checked in ✓", use_inner_text=True)
    expect(result.locator(".alert-success")).to_be_visible()
    # Answered by fetch(): the page itself did not go anywhere.
    expect(page).to_have_url(f"{live_server.url}/checkin/{event.slug}/")
    expect(counter).to_have_text("1 checked in / 3 confirmed")
    expect(code_box).to_have_value("")
    attendee.refresh_from_db()
    assert attendee.checked_in_by == volunteer
    first_time = attendee.checked_in_at.astimezone(event.zone)

    code_box.fill(attendee.ticket_code)
    code_box.press("Enter")

    expect(result).to_have_text(
        f"Ada Lovelace Already checked in at {first_time:%H:%M} "
        f"{first_time.tzname()} by Vera Volunteer.",
        use_inner_text=True,
    )
    expect(result.locator(".alert-warning")).to_be_visible()
    expect(counter).to_have_text("1 checked in / 3 confirmed")
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == 1


def test_check_in_works_without_javascript(live_server, browser):
    event = at_the_door(capacity=5, title="Tour stop Porto")
    attendee = services.register(event=event, user=UserFactory(name="Grace Hopper"))
    volunteer = make_volunteer()
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        log_in(page, live_server, email=volunteer.email, password=FACTORY_PASSWORD)
        page.goto(f"{live_server.url}/checkin/{event.slug}/")

        page.get_by_label("Ticket code").fill(grouped(attendee.ticket_code))
        page.get_by_role("button", name="Check in", exact=True).click()

        expect(page).to_have_url(f"{live_server.url}/checkin/{event.slug}/scan/")
        expect(page.get_by_test_id("checkin-result")).to_have_text(
            "Grace Hopper Checked in ✓", use_inner_text=True
        )
        expect(page.get_by_test_id("counter")).to_have_text(
            "1 checked in / 1 confirmed"
        )
    finally:
        context.close()
