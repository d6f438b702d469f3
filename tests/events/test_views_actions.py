"""Registering, cancelling, and every bad input answered with a clear 4xx."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import services
from events.models import Event, Registration
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status


# Registering and cancelling ------------------------------------------------------


def test_register_confirms_and_redirects_to_the_event(attendee_client):
    event = EventFactory()
    response = attendee_client.post(reverse("events:register", args=[event.slug]))
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()
    assert Registration.objects.get(event=event).status == Status.CONFIRMED


def test_register_refused_shows_the_reason_and_saves_nothing(attendee_client):
    event = EventFactory(registration_closes_at=timezone.now() - timedelta(minutes=1))
    response = attendee_client.post(
        reverse("events:register", args=[event.slug]), follow=True
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Registration for this event is closed."
    ]
    assert Registration.objects.count() == 0


def test_register_by_unverified_user_asks_for_verification(client, mailbox):
    user = UserFactory(verified=False)
    client.force_login(user)
    event = EventFactory()
    response = client.post(reverse("events:register", args=[event.slug]))
    assert response.status_code == 200
    assert "account/verified_email_required.html" in [
        t.name for t in response.templates
    ]
    assert Registration.objects.count() == 0
    assert [m.to for m in mailbox()] == [[user.email]]


def test_register_anonymous_goes_to_signup_and_back(mailbox):
    client = Client()
    event = EventFactory()
    response = client.post(reverse("events:register", args=[event.slug]))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/signup/?next={event.get_absolute_url()}"

    response = client.post(
        "/accounts/signup/",
        {
            "email": "Newcomer@Example.com",
            "password1": "a-sturdy-passphrase-42",
            "name": "Nia",
            "next": event.get_absolute_url(),
        },
    )
    assert response.status_code == 302
    assert Registration.objects.count() == 0
    (message,) = mailbox()
    link = re.search(
        r"http://testserver(/accounts/confirm-email/\S+)", message.body
    ).group(1)

    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()
    response = client.post(reverse("events:register", args=[event.slug]))
    assert response["Location"] == event.get_absolute_url()
    assert Registration.objects.get(event=event).user.email == "newcomer@example.com"


def test_verification_link_opened_on_another_device_returns_to_the_event(mailbox):
    event = EventFactory()
    laptop, phone = Client(), Client()
    laptop.post(
        "/accounts/signup/",
        {
            "email": "roamer@example.com",
            "password1": "a-sturdy-passphrase-42",
            "next": event.get_absolute_url(),
        },
    )
    link = re.search(r"http://testserver(\S+)", mailbox()[0].body).group(1)
    assert link.endswith(f"?next={event.get_absolute_url().replace('/', '%2F')}")
    response = phone.post(link)
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()


def test_verification_link_never_carries_an_offsite_next(mailbox):
    Client().post(
        "/accounts/signup/",
        {
            "email": "roamer@example.com",
            "password1": "a-sturdy-passphrase-42",
            "next": "https://evil.example.com/",
        },
    )
    assert "evil" not in mailbox()[0].body


def test_cancel_frees_the_seat_for_the_waitlist(attendee_client):
    event = EventFactory(capacity=1)
    mine = services.register(event=event, user=attendee_client.user)
    waiting = services.register(event=event, user=UserFactory())
    response = attendee_client.post(reverse("events:cancel", args=[mine.pk]))
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()
    assert Registration.objects.get(pk=mine.pk).status == Status.CANCELLED
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED


def test_cancel_asks_before_giving_up_the_seat(attendee_client):
    event = EventFactory(capacity=1)
    mine = services.register(event=event, user=attendee_client.user)
    response = attendee_client.get(reverse("events:cancel", args=[mine.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Give up your seat?" in content
    assert "Yes, give up my seat" in content
    assert Registration.objects.get(pk=mine.pk).status == Status.CONFIRMED


def test_cancel_twice_returns_to_the_event(attendee_client):
    event = EventFactory()
    mine = services.register(event=event, user=attendee_client.user)
    attendee_client.post(reverse("events:cancel", args=[mine.pk]))
    response = attendee_client.post(reverse("events:cancel", args=[mine.pk]))
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()


def test_cancel_after_the_start_is_refused_with_a_message(attendee_client):
    event = EventFactory()
    mine = services.register(event=event, user=attendee_client.user)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - timedelta(minutes=1)
    )
    response = attendee_client.post(
        reverse("events:cancel", args=[mine.pk]), follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "This event has already started, so registrations can no longer change."
    ]
    assert Registration.objects.get(pk=mine.pk).status == Status.CONFIRMED


def test_register_form_carries_next_into_the_verification_email(client, mailbox):
    user = UserFactory(verified=False)
    client.force_login(user)
    event = EventFactory()
    client.post(
        reverse("events:register", args=[event.slug]),
        {"next": event.get_absolute_url()},
    )
    (message,) = mailbox()
    assert f"?next={event.get_absolute_url().replace('/', '%2F')}" in message.body


def test_cancel_someone_elses_registration_is_404(attendee_client):
    event = EventFactory()
    theirs = services.register(event=event, user=UserFactory())
    response = attendee_client.post(reverse("events:cancel", args=[theirs.pk]))
    assert response.status_code == 404
    assert Registration.objects.get(pk=theirs.pk).status == Status.CONFIRMED


def test_cancel_anonymous_redirects_to_login(client):
    registration = services.register(event=EventFactory(), user=UserFactory())
    response = client.post(reverse("events:cancel", args=[registration.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Registration.objects.get(pk=registration.pk).status == Status.CONFIRMED


# Bad input: a clear 4xx page, never a 500 -----------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/events/no-such-event/",
        "/registrations/99999/cancel/",
        "/registrations/abc/cancel/",
    ],
)
def test_unknown_or_tampered_urls_are_404_pages(attendee_client, path):
    response = (
        attendee_client.get(path) if "events" in path else attendee_client.post(path)
    )
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_register_for_a_draft_event_is_404(attendee_client):
    event = EventFactory(status=Event.Status.DRAFT)
    response = attendee_client.post(reverse("events:register", args=[event.slug]))
    assert response.status_code == 404
    assert Registration.objects.count() == 0


def test_post_without_csrf_token_is_a_403_page():
    client = Client(enforce_csrf_checks=True)
    user = UserFactory()
    client.force_login(user)
    event = EventFactory()
    response = client.post(reverse("events:register", args=[event.slug]))
    assert response.status_code == 403
    assert "Your form expired" in response.content.decode()
    assert Registration.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "name"),
    [("get", "events:register"), ("put", "events:register"), ("post", "events:detail")],
)
def test_wrong_method_is_a_405_page(attendee_client, method, name):
    event = EventFactory()
    response = getattr(attendee_client, method)(reverse(name, args=[event.slug]))
    assert response.status_code == 405
    assert "Not allowed here" in response.content.decode()
    assert response["Allow"] == ("POST" if name == "events:register" else "GET")
