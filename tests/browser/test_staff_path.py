"""Staff run a new city from the admin: create the event, publish it, see it public."""

import re
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Page, expect

from events.models import Event
from events.roles import MANAGERS
from tests.factories import EventSeriesFactory, UserFactory

PASSWORD = "correct horse battery"


def admin_log_in(page: Page, live_server, email: str) -> None:
    # The admin sends staff to the site's own sign-in (rate limits, two-factor).
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fadmin%2F$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_staff_create_an_event_in_a_new_city_publish_it_and_find_it_home(
    live_server, page
):
    EventSeriesFactory()
    # An event manager, not a superuser: the role is enough to run a new city.
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name=MANAGERS))
    day = (timezone.now() + timedelta(days=45)).date()

    admin_log_in(page, live_server, staff.email)
    page.goto(f"{live_server.url}/admin/events/event/add/")
    page.get_by_label("Series:", exact=True).select_option(
        label="Open Models Developer Tour"
    )
    page.get_by_label("Title:", exact=True).fill("Turnout Bangalore")
    page.get_by_label("Title:", exact=True).press("Tab")
    # The admin fills the slug in from the title.
    expect(page.get_by_label("Slug:", exact=True)).to_have_value("turnout-bangalore")
    page.get_by_label("City:", exact=True).fill("Bangalore")
    page.get_by_label("Country:", exact=True).select_option("IN")
    page.get_by_label("Venue:", exact=True).fill("Koramangala Hall")
    page.get_by_label("Venue address:", exact=True).fill("80 Feet Rd, Bengaluru")
    page.get_by_label("Time zone:", exact=True).select_option("Asia/Kolkata")
    page.locator("#id_starts_at_0").fill(day.isoformat())
    page.locator("#id_starts_at_1").fill("18:00:00")
    page.locator("#id_ends_at_0").fill(day.isoformat())
    page.locator("#id_ends_at_1").fill("21:00:00")
    page.get_by_label("Capacity:", exact=True).fill("80")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    event = Event.objects.get(slug="turnout-bangalore")
    assert event.status == Event.Status.DRAFT
    local = event.starts_at.astimezone(event.zone)
    assert (local.date(), local.hour, local.minute) == (day, 18, 0)

    # Not public yet.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_text("Turnout Bangalore")).to_have_count(0)

    page.goto(f"{live_server.url}/admin/events/event/")
    page.get_by_role("row", name=re.compile("Turnout Bangalore")).get_by_role(
        "checkbox"
    ).check()
    page.locator("select[name=action]").select_option("publish")
    page.get_by_role("button", name="Go", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("1 event published.")

    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Bangalore India", level=2)).to_be_visible()
    page.get_by_role("link", name=re.compile("^Turnout Bangalore")).click()
    expect(
        page.get_by_role("heading", name="Turnout Bangalore", level=1)
    ).to_be_visible()
    expect(page.get_by_text(re.compile(r"6 p\.m\. IST")).first).to_be_visible()
