"""The CSP watch of tests/browser/conftest.py can fail a test (the controls), and
every page of the site, the admin included, runs under the real policy without a
violation (the walk)."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from csp.constants import SELF
from csp.decorators import csp_replace
from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from playwright.sync_api import Page, expect

from events import services
from events.models import EventSeries
from notifications import links
from notifications.models import Message
from tests.browser.test_attendee_path import FACTORY_PASSWORD, PASSWORD_LABEL, log_in
from tests.factories import EventFactory, EventSeriesFactory, UserFactory
from tests.support.door import grouped

# Test-only pages, each breaking the policy in one place; the site's own URLs follow.
CONTROL_PAGE = "<!DOCTYPE html><title>{title}</title>{body}"
INLINE_SCRIPT = "<script>document.title = 'ran';</script>"


def _control(title: str, body: str):
    def view(request):
        return HttpResponse(CONTROL_PAGE.format(title=title, body=body))

    return view


# A page framing another of ours, which may be framed: what the site's policy and
# X-Frame-Options deny everywhere else.
_frameable = xframe_options_sameorigin(
    csp_replace({"frame-ancestors": [SELF]})(
        _control("Framed", f"<p>framed</p>{INLINE_SCRIPT}")
    )
)

urlpatterns = [
    path(
        "csp-control/inline-script/",
        _control("Inline script", f"<p>control</p>{INLINE_SCRIPT}"),
    ),
    path(
        "csp-control/srcdoc-frame/",
        _control(
            "Srcdoc frame",
            '<iframe srcdoc="<script>parent.document.title = 1;</script>"></iframe>',
        ),
    ),
    path(
        "csp-control/sandboxed-frame/",
        _control(
            "Sandboxed frame",
            "<iframe sandbox srcdoc=\"<img src='https://example.invalid/x.png'>\">"
            "</iframe>",
        ),
    ),
    path("csp-control/framed/", _frameable),
    path(
        "csp-control/same-origin-frame/",
        csp_replace({"frame-src": [SELF]})(
            _control(
                "Same-origin frame", '<iframe src="/csp-control/framed/"></iframe>'
            )
        ),
    ),
    path("", include("config.urls")),
]


def recorded(violations) -> list[tuple[str, str, str, str]]:
    """What each violation says, in a stable order, without the console's wording."""
    return sorted(
        (
            v.source,
            urlsplit(v.frame_url).path or v.frame_url,
            v.blocked_uri,
            v.directive,
        )
        for v in violations
    )


@pytest.mark.urls(__name__)
def test_csp_watch_fails_the_test_on_an_inline_script(
    live_server, page, csp_violations
):
    page.goto(f"{live_server.url}/csp-control/inline-script/")
    expect(page.get_by_text("control")).to_be_visible()
    # The script did not run, and both witnesses said why...
    expect(page).to_have_title("Inline script")
    violations = csp_violations.take(at_least=2)
    assert recorded(violations) == [
        ("console", "/csp-control/inline-script/", "", ""),
        ("event", "/csp-control/inline-script/", "inline", "script-src-elem"),
    ]

    # ...and had this test not taken them, its teardown would fail, naming the page
    # and the directive.
    csp_violations.violations.extend(violations)
    with pytest.raises(AssertionError) as failure:
        csp_violations.assert_clean()
    url = f"{live_server.url}/csp-control/inline-script/"
    assert f"- {url}: blocked 'inline' by script-src-elem" in str(failure.value)
    csp_violations.take()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("control", "expected"),
    [
        pytest.param(
            "srcdoc-frame",
            [
                ("console", "srcdoc", "", ""),
                ("event", "srcdoc", "inline", "script-src-elem"),
            ],
            id="srcdoc-frame",
        ),
        pytest.param(
            "same-origin-frame",
            [
                ("console", "/csp-control/framed/", "", ""),
                ("event", "/csp-control/framed/", "inline", "script-src-elem"),
            ],
            id="same-origin-frame",
        ),
        # No script runs in a sandboxed frame: the console is the only witness.
        pytest.param(
            "sandboxed-frame",
            [("console", "srcdoc", "", "")],
            id="sandboxed-frame",
        ),
    ],
)
def test_csp_watch_records_violations_inside_frames(
    live_server, page, csp_violations, control, expected
):
    page.goto(f"{live_server.url}/csp-control/{control}/")
    expect(page.locator("iframe")).to_be_attached()
    page.wait_for_load_state("load")

    assert recorded(csp_violations.take(at_least=len(expected))) == expected


@pytest.mark.urls(__name__)
def test_csp_watch_sees_pages_without_javascript(live_server, browser, csp_violations):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/csp-control/sandboxed-frame/")
    page.wait_for_load_state("load")

    assert recorded(csp_violations.take(at_least=1)) == [("console", "srcdoc", "", "")]


def test_browser_contexts_cannot_bypass_the_policy(browser):
    with pytest.raises(ValueError, match="real CSP"):
        browser.new_context(bypass_csp=True)


# The walk: every kind of page a visitor, an attendee, a volunteer and staff open, with
# the scripts that run on them exercised. The watch fails the test on any violation.


def visit(page: Page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response)
    page.wait_for_load_state("load")


@pytest.fixture
def site(live_server, mailbox):
    """An event with one confirmed attendee (a superuser), whose confirmation email
    is sent (so rendered)."""
    EventSeriesFactory()
    # Starting within the hour: the check-in door is open.
    event = EventFactory(
        title="Tour stop Lisbon",
        city="Lisbon",
        country="PT",
        starts_at=timezone.now() + timedelta(hours=1),
    )
    admin = UserFactory(name="Ada Admin", is_staff=True, is_superuser=True)
    registration = services.register(event=event, user=admin)
    mailbox()
    return {"url": live_server.url, "event": event, "user": admin, "reg": registration}


def test_public_pages_report_no_violation(site, page):
    url, event = site["url"], site["event"]
    visit(page, f"{url}/")
    # The time-zone offer (turnout.js): the device is in Los Angeles, the server
    # does not know it yet.
    offer = page.get_by_role("region", name="Time zone")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="No, thanks").click()
    expect(offer).to_be_hidden()
    visit(page, url + event.get_absolute_url())
    visit(page, f"{url}/cities/lisbon/")
    for path_ in (
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/confirm-email/",
        "/accounts/login/code/",
    ):
        visit(page, url + path_)
    for path_ in (
        "/accounts/password/reset/key/1-not-a-key/",
        "/accounts/confirm-email/not-a-key/",
        "/release/not-a-token/",
        "/unsubscribe/not-a-token/",
        "/unfollow/not-a-token/",
    ):
        page.goto(url + path_)
    visit(page, f"{url}/no-such-page/", status=404)
    # The signed links from the emails, followed without signing in.
    registration, user = site["reg"], site["user"]
    for link in (
        links.url(links.RELEASE_SEAT, registration.pk),
        links.url(links.STOP_REMINDERS, user.pk),
        links.url(links.UNFOLLOW_CITY, [user.pk, "lisbon"]),
    ):
        visit(page, url + urlsplit(link).path)


def test_attendee_pages_report_no_violation(live_server, site, page):
    url, event, registration = site["url"], site["event"], site["reg"]
    log_in(page, live_server, email=site["user"].email, password=FACTORY_PASSWORD)
    visit(page, url + event.get_absolute_url())
    visit(page, f"{url}/me/")
    visit(page, f"{url}/me/tickets/{registration.ticket_code}/")
    expect(page.locator("svg.ticket-qr")).to_be_visible()
    visit(page, f"{url}/me/settings/")
    visit(page, f"{url}/registrations/{registration.pk}/cancel/")
    visit(page, f"{url}/cities/lisbon/")
    # allauth's account pages, and two-factor authentication (allauth.mfa).
    for path_ in (
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/reauthenticate/",
        "/accounts/logout/",
        "/accounts/2fa/",
    ):
        visit(page, url + path_)
    visit(page, f"{url}/accounts/2fa/totp/activate/")
    # Activating asks for the password again first.
    page.get_by_label(PASSWORD_LABEL).fill(FACTORY_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{url}/accounts/2fa/totp/activate/")
    # The authenticator app's QR code is an image in a data: URL.
    expect(page.locator("img[src^='data:']")).to_be_visible()
    # The language switcher in the footer posts and comes back.
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_check_in_door_reports_no_violation(live_server, site, page):
    url, event, registration = site["url"], site["event"], site["reg"]
    log_in(page, live_server, email=site["user"].email, password=FACTORY_PASSWORD)
    visit(page, f"{url}/checkin/{event.slug}/")
    page.get_by_label("Ticket code").fill(grouped(registration.ticket_code))
    page.get_by_role("button", name="Check in", exact=True).click()
    # Answered through fetch() by checkin.js.
    expect(page.get_by_test_id("checkin-result")).to_contain_text("Checked in")
    expect(page.get_by_test_id("counter")).to_have_text("1 checked in / 1 confirmed")


def test_admin_pages_report_no_violation(live_server, site, page):
    url, event = site["url"], site["event"]
    log_in(page, live_server, email=site["user"].email, password=FACTORY_PASSWORD)
    admin = f"{url}/admin"

    visit(page, f"{admin}/")
    expect(page.locator("#turnout-dashboard svg.turnout-chart")).to_be_visible()
    # Django's theme toggle (admin/js/theme.js).
    page.locator("button.theme-toggle").first.click()

    visit(page, f"{admin}/events/event/")
    visit(page, f"{admin}/events/event/?q=Lisbon&status__exact=published")
    visit(page, f"{admin}/events/event/{event.pk}/change/")
    # The date and time shortcuts (admin/js/admin/DateTimeShortcuts.js).
    page.locator("#id_starts_at_0 ~ .datetimeshortcuts a").first.click()
    page.locator(".datetimeshortcuts .date-icon").first.click()
    expect(page.locator("#calendarbox0")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator(".datetimeshortcuts .clock-icon").first.click()
    expect(page.locator("#clockbox0")).to_be_visible()
    page.keyboard.press("Escape")
    # parler's language tabs.
    page.locator(".parler-language-tabs").get_by_role("link", name="Français").click()
    expect(page).to_have_url(re.compile(r"language=fr"))
    visit(page, f"{admin}/events/event/{event.pk}/history/")
    visit(page, f"{admin}/events/event/add/")
    page.get_by_label("Title:", exact=True).fill("Turnout Porto")
    page.get_by_label("Title:", exact=True).press("Tab")
    expect(page.get_by_label("Slug:", exact=True)).to_have_value("turnout-porto")
    # "Add another" series in a popup (admin/js/admin/RelatedObjectLookups.js), whose
    # saved answer closes it (admin/js/popup_response.js).
    with page.expect_popup() as opening:
        page.locator("#add_id_series").click()
    popup = opening.value
    popup.get_by_label("Name:").fill("Summer Tour")
    popup.get_by_role("button", name="Save", exact=True).click()
    popup.wait_for_event("close")
    expect(page.get_by_label("Series:", exact=True)).to_have_value(
        str(EventSeries.objects.get(name="Summer Tour").pk)
    )
    visit(page, f"{admin}/events/event/{event.pk}/delete/")

    # The event actions with pages of their own: duplicate, email with a preview.
    for action in ("duplicate", "email_attendees"):
        visit(page, f"{admin}/events/event/")
        page.get_by_role("row", name=re.compile("Tour stop Lisbon")).get_by_role(
            "checkbox"
        ).check()
        page.locator("select[name=action]").select_option(action)
        page.get_by_role("button", name="Go", exact=True).click()
        expect(page.locator("#content h1")).to_contain_text("Tour stop Lisbon")
    page.get_by_label("Subject:").fill("Doors open at six")
    page.get_by_label("Message:").fill("See you there.")
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.frame_locator("iframe[title=Preview]")
    expect(preview.get_by_text("See you there.")).to_be_visible()

    visit(page, f"{admin}/events/registration/")
    visit(page, f"{admin}/events/registration/{site['reg'].pk}/change/")
    visit(page, f"{admin}/notifications/message/")
    message = Message.objects.filter(body_html__gt="").first()
    assert message is not None
    visit(page, f"{admin}/notifications/message/{message.pk}/change/")
    visit(page, f"{admin}/notifications/message/preview/")
    expect(page.locator("iframe").first).to_be_visible()
    visit(page, f"{admin}/events/eventseries/")
    visit(page, f"{admin}/cities/citysubscription/")
    visit(page, f"{admin}/accounts/user/")
    visit(page, f"{admin}/accounts/user/{site['user'].pk}/change/")
    # The permissions' two-box selector (admin/js/SelectFilter2.js).
    visit(page, f"{admin}/auth/group/add/")
    page.locator("#id_permissions_input").fill("check")
    expect(page.locator("#id_permissions_from option").first).to_be_visible()
    visit(page, f"{admin}/account/emailaddress/")
    visit(page, f"{admin}/mfa/authenticator/")
    visit(page, f"{admin}/events/")
    visit(page, f"{admin}/password_change/")
