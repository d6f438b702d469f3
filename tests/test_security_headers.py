"""Every response carries the security headers, the admin and error pages included,
and the language cookie is as locked down as the session's."""

import base64
import hashlib
import json
import re
from datetime import timedelta

import pytest
from csp.utils import build_policy
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from events import services
from tests.factories import EventFactory, UserFactory
from tests.support.door import make_volunteer
from tests.test_config import PRODUCTION, run_manage

CSP = "Content-Security-Policy"
# The policy, directive by directive (django-csp writes them in no fixed order).
EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": [
        "'self'",
        "'sha256-94t4q/rjGPUXBUJXCFFCF3gaVYu0bgKJk+byMs1RbTc='",
        "'sha256-HW1Yk3YBsfTR6NCT/2RohAvT/H4TcfCXQXkRLYAZd00='",
        "'sha256-BicIqAbdCmmv3hltUH9GUX0cXxGhVlxoaF6YnsFd1EM='",
    ],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
EXPECTED_PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(self), display-capture=(), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), usb=()"
)
STYLE_BLOCK = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
EVENT_HANDLER_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def parse_policy(header: str) -> dict[str, list[str]]:
    policy = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *sources = directive.split()
        assert name not in policy, f"{name} twice in {header}"
        policy[name] = sources
    return policy


@pytest.fixture
def site(db):
    """An event whose door is open, with a confirmed attendee; the people who see it."""
    event = EventFactory(starts_at=timezone.now() + timedelta(hours=1), city="Lisbon")
    attendee = UserFactory()
    registration = services.register(event=event, user=attendee)
    return {
        "event": event,
        "registration": registration,
        "anonymous": None,
        "attendee": attendee,
        "volunteer": make_volunteer(),
        "superuser": UserFactory(is_staff=True, is_superuser=True),
    }


# (who asks, the address, the status): public pages, account pages, the door, the
# admin, calendar feeds and an error page.
PAGES = [
    ("anonymous", "/", 200),
    ("anonymous", "{event_url}", 200),
    ("anonymous", "/cities/lisbon/", 200),
    ("anonymous", "/accounts/login/", 200),
    ("anonymous", "/accounts/signup/", 200),
    ("anonymous", "/accounts/password/reset/", 200),
    ("anonymous", "/events.ics", 200),
    ("anonymous", "/cities/lisbon/events.ics", 200),
    ("anonymous", "/no-such-page/", 404),
    ("attendee", "/me/", 200),
    ("attendee", "/me/settings/", 200),
    ("attendee", "/me/tickets/{ticket_code}/", 200),
    ("attendee", "/accounts/email/", 200),
    ("attendee", "/accounts/2fa/", 200),
    ("volunteer", "/checkin/{event_slug}/", 200),
    ("superuser", "/admin/", 200),
    ("superuser", "/admin/events/event/", 200),
    ("superuser", "/admin/events/event/{event_pk}/change/", 200),
    ("superuser", "/admin/events/registration/", 200),
    ("superuser", "/admin/notifications/message/", 200),
    ("superuser", "/admin/notifications/message/preview/", 200),
]


def get(client, site, who: str, address: str):
    if site[who] is not None:
        client.force_login(site[who])
    event = site["event"]
    url = address.format(
        event_url=event.get_absolute_url(),
        event_slug=event.slug,
        event_pk=event.pk,
        ticket_code=site["registration"].ticket_code,
    )
    return client.get(url)


@pytest.mark.parametrize(("who", "address", "status"), PAGES)
def test_every_response_has_the_security_headers(client, site, who, address, status):
    response = get(client, site, who, address)

    assert response.status_code == status
    assert parse_policy(response[CSP]) == EXPECTED_CSP
    assert response["Permissions-Policy"] == EXPECTED_PERMISSIONS_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy-Report-Only" not in response


def test_scripts_run_only_from_our_own_origin():
    policy = parse_policy(build_policy())
    assert policy["script-src"] == ["'self'"]
    # Nothing that would let an inline or injected script run.
    sources = policy["script-src"] + policy["default-src"]
    assert not {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"} & set(
        sources
    )


@pytest.mark.parametrize(
    ("middleware", "header"),
    [
        ("csp.middleware.CSPMiddleware", CSP),
        (
            "django_permissions_policy.PermissionsPolicyMiddleware",
            "Permissions-Policy",
        ),
    ],
)
def test_without_its_middleware_the_header_is_missing(db, middleware, header):
    """The control: the headers above come from the middleware, not from elsewhere."""
    assert Client().get("/")[header]
    without = [m for m in settings.MIDDLEWARE if m != middleware]
    assert len(without) == len(settings.MIDDLEWARE) - 1
    with override_settings(MIDDLEWARE=without):
        # A new client: one loads the middleware once, at its first request.
        assert header not in Client().get("/")


# Pages with their own <style> block: the policy allows exactly those blocks.
STYLED_PAGES = [
    ("volunteer", "/checkin/{event_slug}/"),
    ("attendee", "/me/tickets/{ticket_code}/"),
    ("superuser", "/admin/"),
]


def test_the_policy_allows_exactly_the_inline_style_blocks_of_our_pages(client, site):
    found = {}
    for who, address in STYLED_PAGES:
        client.logout()
        html = get(client, site, who, address).content.decode()
        for block in STYLE_BLOCK.findall(html):
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest())
            found[f"'sha256-{digest.decode()}'"] = address

    allowed = [s for s in EXPECTED_CSP["style-src"] if s.startswith("'sha256-")]
    assert found.keys() == set(allowed), (
        "each <style> block needs its hash in CONTENT_SECURITY_POLICY['style-src'] "
        f"(found: {found})"
    )


@pytest.mark.parametrize(("who", "address", "status"), PAGES)
def test_no_page_has_an_inline_script_or_event_handler(
    client, site, who, address, status
):
    response = get(client, site, who, address)
    if not response["Content-Type"].startswith("text/html"):
        return
    html = response.content.decode()

    for attributes, body in SCRIPT_TAG.findall(html):
        # Data for a script (type="application/json") is not run.
        if "application/json" in attributes:
            continue
        assert "src=" in attributes and not body.strip(), (attributes, body)
    assert not EVENT_HANDLER_ATTRIBUTE.findall(html)


def test_language_cookie_is_lax_and_http_only(client, db):
    response = client.post("/language/", {"language": "fr", "next": "/"})

    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr"
    assert (cookie["samesite"], cookie["httponly"]) == ("Lax", True)


@override_settings(LANGUAGE_COOKIE_SECURE=True)
def test_language_cookie_is_secure_when_asked(client, db):
    response = client.post("/language/", {"language": "fr", "next": "/"})

    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert (cookie["secure"], cookie["samesite"], cookie["httponly"]) == (
        True,
        "Lax",
        True,
    )


def test_production_sends_the_language_cookie_secure_and_the_same_headers(tmp_path):
    """With DJANGO_DEBUG=0, a real request through the whole middleware stack."""
    code = (
        "import json; from django.test import Client;"
        "r = Client(HTTP_HOST='turnout.example.org').post("
        "'/language/', {'language': 'de', 'next': '/'}, secure=True);"
        "c = r.cookies['django_language'];"
        "print(json.dumps({'status': r.status_code, 'csp': r['Content-Security-Policy'],"
        "'pp': r['Permissions-Policy'], 'cookie': [c.value, c['secure'],"
        " c['httponly'], c['samesite']]}))"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        env_overrides={
            **PRODUCTION,
            "DATABASE_URL": "sqlite:///:memory:",
            "TURNOUT_CACHE_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])

    assert answer["status"] == 302
    assert answer["cookie"] == ["de", True, True, "Lax"]
    assert parse_policy(answer["csp"]) == EXPECTED_CSP
    assert answer["pp"] == EXPECTED_PERMISSIONS_POLICY
