"""Signing in as an attacker meets it: staff accounts, the admin's door, sign-up bots,
enumeration by timing, forged Host headers, email flooding (issue 9)."""

import re
import time
import types

import pytest
from allauth.core.internal import ratelimit
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from accounts.models import User
from notifications.models import Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a-sturdy-passphrase-42"
FORGED_HOST = "127.0.0.1:9999"
TOO_MANY = "Too many failed login attempts"


@pytest.fixture
def forged_host(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver", "127.0.0.1"]
    return Client(HTTP_HOST=FORGED_HOST)


@pytest.fixture
def clock(monkeypatch):
    """The clock allauth's rate limits read, and only theirs: tests move it on."""
    now = [time.time()]
    monkeypatch.setattr(
        ratelimit,
        "time",
        types.SimpleNamespace(
            time=lambda: now[0], monotonic=time.monotonic, sleep=time.sleep
        ),
    )

    def advance(seconds):
        now[0] += seconds

    return advance


def current_code(secret):
    counter = int(time.time()) // 30
    assert counter in set(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def activate_totp(client):
    """Turns on an authenticator app for the signed-in client; returns its secret.

    allauth asks for the password again first, however recent the sign-in."""
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    secret = client.get("/accounts/2fa/totp/activate/").context["form"].secret
    response = client.post(
        "/accounts/2fa/totp/activate/", {"code": current_code(secret)}
    )
    assert response["Location"] == "/accounts/2fa/recovery-codes/"
    return secret


def staff_with_totp():
    staff = UserFactory(is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff, secret


def links(body):
    return re.findall(r"https?://[^\s<>\"']+", body)


# 1. Two-factor authentication for staff ------------------------------------------------
def test_staff_turn_on_an_authenticator_app_and_must_then_enter_its_code(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert sign_in(client, staff.email)["Location"] == "/me/"
    # The admin's front page points staff without a second factor to the setup.
    index = client.get("/admin/").content.decode()
    assert re.search(
        r'<a href="/accounts/2fa/">[^<]*two-factor authentication</a>', index
    )

    secret = activate_totp(client)
    kinds = Authenticator.objects.filter(user=staff).values_list("type", flat=True)
    assert sorted(kinds) == ["recovery_codes", "totp"]
    assert "/accounts/2fa/" not in client.get("/admin/").content.decode()
    client.post("/accounts/logout/")

    response = sign_in(client, staff.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors == {"code": ["Incorrect code."]}
    assert client.get("/admin/").status_code == 302

    right = client.post("/accounts/2fa/authenticate/", {"code": current_code(secret)})
    assert right.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_stands_in_for_the_authenticator_app(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    sign_in(client, staff.email)
    activate_totp(client)
    codes = client.get("/accounts/2fa/recovery-codes/").context["unused_codes"]
    client.post("/accounts/logout/")

    sign_in(client, staff.email)
    client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert client.get("/admin/").status_code == 200


def test_two_factor_pages_render_in_our_layout(client):
    staff = UserFactory(is_staff=True)
    sign_in(client, staff.email)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    pages = ["/accounts/2fa/", "/accounts/2fa/totp/activate/"]
    contents = [client.get(url).content.decode() for url in pages]
    secret = client.session["mfa.totp.secret"]
    client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    pages += [
        "/accounts/2fa/recovery-codes/",
        "/accounts/2fa/recovery-codes/generate/",
        "/accounts/2fa/totp/deactivate/",
    ]
    for url in pages[2:]:
        response = client.get(url)
        assert response.status_code == 200, url
        contents.append(response.content.decode())
    client.post("/accounts/logout/")
    sign_in(client, staff.email)
    pages.append("/accounts/2fa/authenticate/")
    contents.append(client.get("/accounts/2fa/authenticate/").content.decode())

    for url, content in zip(pages, contents, strict=True):
        assert re.search(r"<title>[^<]*\S[^<]*· Turnout</title>", content), url
        assert '<main id="main"' in content, url
        assert '<link rel="stylesheet" href="/static/bootstrap/css/' in content, url
        for field in re.findall(r"<input[^>]+type=\"text\"[^>]*>", content):
            field_id = re.search(r'id="([^"]+)"', field).group(1)
            assert f'for="{field_id}"' in content, (url, field)


def test_admin_index_does_not_nudge_staff_who_have_two_factor(client):
    staff, _secret = staff_with_totp()
    client.force_login(staff)
    assert "turnout-two-factor-nudge" not in client.get("/admin/").content.decode()


# 2. The admin's login is allauth's -------------------------------------------------------
def test_the_admin_sends_visitors_to_the_accounts_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1] == ("/accounts/login/?next=%2Fadmin%2F", 302)


def test_the_admin_login_does_not_check_passwords_so_cannot_be_guessed_at(client):
    staff = UserFactory(is_staff=True)
    for attempt in range(12):
        response = client.post(
            "/admin/login/", {"username": staff.email, "password": f"guess {attempt}"}
        )
        assert response["Location"].startswith("/accounts/login/?next=")
    response = client.post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD}
    )
    assert response["Location"].startswith("/accounts/login/?next=")
    assert client.get("/admin/").status_code == 302


def test_once_the_failed_login_limit_is_reached_the_admin_login_refuses_too(client):
    staff = UserFactory(is_staff=True)
    for attempt in range(5):
        assert sign_in(client, staff.email, f"guess {attempt}").status_code == 200
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302
    refused = sign_in(client, staff.email)
    assert TOO_MANY in refused.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_failed_login_limit_holds_whatever_the_host_header(client, forged_host):
    staff = UserFactory(is_staff=True)
    for attempt in range(5):
        sign_in(client, staff.email, f"guess {attempt}")
    refused = sign_in(forged_host, staff.email)
    assert TOO_MANY in refused.content.decode()
    assert forged_host.get("/admin/").status_code == 302


def test_staff_with_totp_cannot_open_the_admin_with_the_password_alone(client):
    staff, secret = staff_with_totp()
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302

    login_page = client.get("/admin/", follow=True).redirect_chain[-1][0]
    response = client.post(login_page, {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302
    response = client.post(
        "/accounts/2fa/authenticate/", {"code": current_code(secret)}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# 3. A honeypot on sign-up ------------------------------------------------------------------
def test_signup_form_has_a_honeypot_hidden_from_people(client):
    content = client.get("/accounts/signup/").content.decode()
    field = re.search(r'<input[^>]+name="website"[^>]*>', content).group(0)
    assert 'tabindex="-1"' in field
    assert 'aria-hidden="true"' in field
    assert 'autocomplete="off"' in field
    wrapper = re.search(
        r'<div id="div_id_website" class="([^"]*)">\s*<label\s+for="id_website"[^>]*>'
        r"\s*Leave this empty\s*</label>",
        content,
    )
    assert "visually-hidden" in wrapper.group(1).split()


def test_signup_with_the_honeypot_filled_creates_no_account(client, mailbox):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "bot@example.com",
            "password1": NEW_PASSWORD,
            "website": "http://spam.example",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Your account could not be created. Please try again."
    ]
    assert User.objects.count() == 0
    assert mailbox() == []


def test_signup_with_the_honeypot_empty_creates_the_account(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "ada@example.com", "password1": NEW_PASSWORD, "website": ""},
    )
    assert response["Location"] == "/accounts/confirm-email/"
    assert list(User.objects.values_list("email", flat=True)) == ["ada@example.com"]


# 4. Sign-up does not tell by its time whether an address has an account ----------------
class CountingHasher(MD5PasswordHasher):
    """MD5 (fast, for tests) that counts how often it hashes."""

    algorithm = "counting_md5"
    encoded = 0

    def encode(self, password, salt):
        type(self).encoded += 1
        return super().encode(password, salt)


def test_signup_hashes_as_often_for_a_known_address_as_for_a_new_one(settings):
    settings.PASSWORD_HASHERS = [
        "tests.accounts.test_security.CountingHasher",
        *settings.PASSWORD_HASHERS,
    ]
    UserFactory(email="taken@example.com")
    answers, hashed = [], []
    for email in ("taken@example.com", "new@example.com"):
        CountingHasher.encoded = 0
        response = Client().post(
            "/accounts/signup/", {"email": email, "password1": NEW_PASSWORD}
        )
        answers.append((response.status_code, response["Location"]))
        hashed.append(CountingHasher.encoded)
    assert answers[0] == answers[1]
    assert hashed == [1, 1]


def test_a_refused_signup_hashes_nothing_for_a_known_address_either(settings):
    settings.PASSWORD_HASHERS = [
        "tests.accounts.test_security.CountingHasher",
        *settings.PASSWORD_HASHERS,
    ]
    UserFactory(email="taken@example.com")
    CountingHasher.encoded = 0
    response = Client().post(
        "/accounts/signup/", {"email": "taken@example.com", "password1": "123"}
    )
    assert response.status_code == 200
    assert CountingHasher.encoded == 0


def test_account_already_exists_email_names_the_address_and_the_site(
    forged_host, mailbox, settings
):
    UserFactory(email="taken@example.com")
    forged_host.post(
        "/accounts/signup/", {"email": "taken@example.com", "password1": NEW_PASSWORD}
    )
    (message,) = mailbox()
    assert message.to == ["taken@example.com"]
    assert "\ntaken@example.com\n" in message.body
    assert links(message.body) == [f"{settings.SITE_URL}/accounts/password/reset/"]
    assert message.body.rstrip().endswith("Thank you for using Turnout.\ntestserver")
    assert FORGED_HOST not in message.body


# 5. Links in account emails are on SITE_URL, never on the request's Host ---------------
def test_password_reset_link_is_on_the_site_url(forged_host, mailbox, settings):
    user = UserFactory()
    forged_host.post("/accounts/password/reset/", {"email": user.email})
    (message,) = mailbox()
    (link,) = links(message.body)
    assert link.startswith(f"{settings.SITE_URL}/accounts/password/reset/key/")
    assert FORGED_HOST not in message.body
    assert Client().get(link.removeprefix(settings.SITE_URL)).status_code == 302


def test_verification_link_is_on_the_site_url(forged_host, mailbox, settings):
    forged_host.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": NEW_PASSWORD, "next": "/me/"},
    )
    (message,) = mailbox()
    (link,) = links(message.body)
    assert re.fullmatch(
        rf"{re.escape(settings.SITE_URL)}/accounts/confirm-email/[\w:-]+/\?next=%2Fme%2F",
        link,
    )
    # allauth's text names the address and the site (#10: it once read "on .").
    assert "user new@example.com has given" in message.body
    assert "to register an account on testserver." in message.body
    assert FORGED_HOST not in message.body


def test_unknown_account_email_links_to_sign_up_on_the_site_url(
    forged_host, mailbox, settings
):
    forged_host.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    (message,) = mailbox()
    assert links(message.body) == [f"{settings.SITE_URL}/accounts/signup/"]
    assert FORGED_HOST not in message.body


def test_login_code_email_names_the_site_not_the_host(forged_host, mailbox):
    user = UserFactory()
    forged_host.post("/accounts/login/code/", {"email": user.email})
    (message,) = mailbox()
    assert message.body.rstrip().endswith("Thank you for using Turnout.\ntestserver")
    assert FORGED_HOST not in message.body


# 6. Rate limits on email addresses and sign-in codes ---------------------------------------
def add_email(client, email):
    return client.post("/accounts/email/", {"action_add": "", "email": email})


def test_adding_email_addresses_is_limited_per_person_per_hour(client, clock):
    client.force_login(UserFactory())
    for n in range(20):
        assert add_email(client, f"extra{n}@example.com").status_code == 302
        clock(10)  # six a minute: under the per-minute limit
    assert add_email(client, "one-more@example.com").status_code == 429
    clock(60 * 60)
    assert add_email(client, "an-hour-later@example.com").status_code == 302


def test_adding_email_addresses_is_limited_per_client_address(client):
    for person in range(3):
        client.force_login(UserFactory())
        for n in range(10):
            response = add_email(client, f"p{person}-{n}@example.com")
            assert response.status_code == 302
    client.force_login(UserFactory())
    assert add_email(client, "fourth-person@example.com").status_code == 429
    assert Message.objects.filter(to_email="fourth-person@example.com").count() == 0


def test_sign_in_codes_for_one_address_are_limited_per_hour(clock):
    user = UserFactory()
    for _ in range(10):
        response = Client().post("/accounts/login/code/", {"email": user.email})
        assert response["Location"] == "/accounts/login/code/confirm/"
        clock(61)
    refused = Client().post("/accounts/login/code/", {"email": user.email})
    assert refused.status_code == 200
    assert TOO_MANY in refused.content.decode()
    assert Message.objects.filter(to_email=user.email).count() == 10


# The client's address behind a reverse proxy (ALLAUTH_TRUSTED_PROXY_COUNT) ----------------
def fail_ten_logins(client):
    for n in range(10):
        sign_in(client, f"someone{n}@example.com", "a guess")


def test_behind_one_trusted_proxy_each_client_has_its_own_login_limit(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    first = Client(HTTP_X_FORWARDED_FOR="203.0.113.7")
    fail_ten_logins(first)
    assert TOO_MANY in sign_in(first, user.email).content.decode()
    # A client cannot pass for another by adding addresses of its own to the left.
    spoofing = Client(HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7")
    assert TOO_MANY in sign_in(spoofing, user.email).content.decode()
    second = Client(HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert sign_in(second, user.email)["Location"] == "/me/"


def test_with_no_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    user = UserFactory()
    fail_ten_logins(Client(HTTP_X_FORWARDED_FOR="203.0.113.7"))
    second = Client(HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert TOO_MANY in sign_in(second, user.email).content.decode()


def test_the_admins_password_change_is_allauths(client):
    from django.urls import reverse

    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_change_password")


def test_two_factor_secrets_are_stored_encrypted(client):
    import json

    staff, secret = staff_with_totp()
    stored = json.dumps(
        list(Authenticator.objects.filter(user=staff).values_list("data", flat=True))
    )
    assert secret not in stored
    # ...and still work: the code from the app signs in.
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    response = client.post(
        "/accounts/2fa/authenticate/", {"code": current_code(secret)}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
