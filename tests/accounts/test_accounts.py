import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import User
from notifications import links
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
DAY = 24 * 60 * 60


def test_email_is_unique_ignoring_case():
    User.objects.create_user(email="Ada@Example.com", password=PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="ada@example.com", password=PASSWORD)


def test_login_ignores_the_case_of_the_email(client):
    UserFactory(email="grace@example.com")
    response = client.post(
        "/accounts/login/", {"login": "GRACE@example.COM", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/"


def test_login_of_unverified_user_is_held_until_verified(client, mailbox):
    user = UserFactory(verified=False)
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}
    )
    assert response["Location"] == "/accounts/confirm-email/"
    assert [m.to for m in mailbox()] == [[user.email]]
    assert client.get("/me/").status_code == 302


def test_login_by_emailed_code(client, mailbox):
    user = UserFactory()
    response = client.post("/accounts/login/code/", {"email": user.email})
    assert response.status_code == 302
    (message,) = mailbox()
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", message.body, re.M).group(1)
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200


def test_password_reset_answers_the_same_for_unknown_emails(client, mailbox):
    UserFactory(email="known@example.com")
    known = client.post("/accounts/password/reset/", {"email": "known@example.com"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (
        unknown.status_code,
        unknown["Location"],
    )
    # The unknown address is told no account exists, instead of the page saying so.
    assert sorted(m.to[0] for m in mailbox()) == [
        "known@example.com",
        "nobody@example.com",
    ]


def test_password_reset_link_sets_a_new_password(client, mailbox):
    user = UserFactory()
    client.post("/accounts/password/reset/", {"email": user.email})
    link = re.search(r"http://testserver(\S+)", mailbox()[0].body).group(1)
    form_url = client.get(link)["Location"]
    response = client.post(
        form_url,
        {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_signup_with_a_taken_email_does_not_say_so(client):
    UserFactory(email="taken@example.com")
    response = client.post(
        "/accounts/signup/",
        {"email": "taken@example.com", "password1": "a-sturdy-passphrase-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_profile_saves_name_zone_and_language():
    client = Client()
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/me/settings/",
        {"name": "Ada L.", "timezone": "Asia/Kolkata", "language": "en"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.name, user.timezone, user.language) == ("Ada L.", "Asia/Kolkata", "en")


def test_profile_rejects_an_unknown_zone_and_keeps_the_saved_one():
    client = Client()
    user = UserFactory(name="Before", timezone="Europe/Berlin")
    client.force_login(user)
    response = client.post(
        "/me/settings/",
        {"name": "X", "timezone": "Mars/Olympus_Mons", "language": "en"},
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["timezone"]
    user.refresh_from_db()
    assert (user.name, user.timezone) == ("Before", "Europe/Berlin")


def test_pages_have_titles_landmarks_and_labelled_fields(client):
    content = client.get("/accounts/signup/").content.decode()
    assert re.search(r"<title>\s*Signup\s*· Turnout</title>", content)
    assert '<main id="main"' in content
    assert "<nav" in content
    for field in re.findall(
        r'<input[^>]+type="(?:email|password|text)"[^>]*>', content
    ):
        field_id = re.search(r'id="([^"]+)"', field).group(1)
        assert f'for="{field_id}"' in content, field


# The one-click "stop reminder emails" link ---------------------------------------------
def unsubscribe_path(user) -> str:
    return links.url(links.STOP_REMINDERS, user.pk).removeprefix("http://testserver")


def test_unsubscribe_link_works_for_a_year(link_clock):
    user = UserFactory()
    path = unsubscribe_path(user)
    link_clock.now += 365 * DAY

    response = Client(enforce_csrf_checks=True).post(path)

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_reminders is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_unsubscribe_link_a_year_old_is_expired_and_changes_nothing(link_clock, method):
    user = UserFactory()
    path = unsubscribe_path(user)
    link_clock.now += 365 * DAY + 1

    response = getattr(Client(enforce_csrf_checks=True), method)(path)

    assert response.status_code == 410
    page = response.content.decode()
    assert "This link has expired" in page
    assert "This link is too old to use, so nothing was changed." in page
    user.refresh_from_db()
    assert user.email_reminders is True
