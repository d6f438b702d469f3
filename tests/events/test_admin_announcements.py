"""Staff's emails from the admin: announcements to the confirmed attendees, resends."""

import pytest
from django.urls import reverse

from events import services
from events.messages import Kind
from events.models import Registration
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.support.admin import act, events_url, logged

pytestmark = pytest.mark.django_db

Status = Registration.Status


def test_email_attendees_previews_then_queues_once_per_confirmed_attendee(
    admin_client,
):
    event = EventFactory(capacity=2)
    first, second = (services.register(event=event, user=UserFactory()) for _ in "ab")
    services.register(event=event, user=UserFactory())  # waitlisted: not emailed
    Message.objects.all().delete()

    form = act(admin_client, events_url(), "email_attendees", [event])
    assert form.status_code == 200
    key = form.context["form"]["key"].value()
    fields = {"subject": "Doors at 5:30", "body": "Bring <b>a laptop</b>.", "key": key}
    preview = act(
        admin_client, events_url(), "email_attendees", [event], confirm="no", **fields
    )
    assert preview.status_code == 200
    assert (
        preview.context["preview"].subject == f"[Turnout] {event.title}: Doors at 5:30"
    )
    assert "Bring &lt;b&gt;a laptop&lt;/b&gt;." in preview.context["preview"].html
    assert 'srcdoc="&lt;!DOCTYPE html&gt;' in preview.content.decode()  # whole
    assert not Message.objects.exists()  # a preview sends nothing

    for _ in range(2):  # sent twice (a double click): queued once
        sent = act(
            admin_client,
            events_url(),
            "email_attendees",
            [event],
            confirm="yes",
            **fields,
        )
        assert sent.status_code == 302
    queued = Message.objects.filter(kind=Kind.ANNOUNCEMENT)
    assert sorted(queued.values_list("registration", flat=True)) == [
        first.pk,
        second.pk,
    ]
    assert logged(event) == ["Emailed 2 confirmed attendees: Doors at 5:30"]


def test_announcement_is_delivered_with_the_staff_text(admin_client, mailbox):
    event = EventFactory()
    registration = services.register(event=event, user=UserFactory())
    mailbox()
    services.email_attendees(
        event=event, subject="Change of room", body="Room 2, upstairs.", key="k1"
    )

    (*_, email) = mailbox()

    assert email.to == [registration.user.email]
    assert email.subject == f"[Turnout] {event.title}: Change of room"
    assert "Room 2, upstairs." in email.body


def test_announcement_subject_must_be_one_line(admin_client):
    event = EventFactory()
    services.register(event=event, user=UserFactory())

    response = act(
        admin_client,
        events_url(),
        "email_attendees",
        [event],
        confirm="yes",
        subject="Doors\r\nBcc: everyone@example.com",
        body="Hello",
        key="k-newline",
    )

    assert response.status_code == 200
    assert "The subject must be a single line." in response.content.decode()
    assert not Message.objects.filter(kind=Kind.ANNOUNCEMENT).exists()


def test_announcement_subject_fits_the_row_with_the_longest_title(mailbox):
    event = EventFactory(title="T" * 200)
    services.register(event=event, user=UserFactory())
    mailbox()
    services.email_attendees(event=event, subject="S" * 120, body="Hi", key="k-long")

    (*_, email) = mailbox()

    message = Message.objects.get(kind=Kind.ANNOUNCEMENT)
    assert message.status == Message.Status.SENT
    assert len(email.subject) == 300 and email.subject.startswith("[Turnout] TTT")


def test_resending_a_message_is_recorded(admin_client, admin_user):
    event = EventFactory()
    registration = services.register(event=event, user=UserFactory())
    message = Message.objects.get(registration=registration)

    act(
        admin_client,
        reverse("admin:notifications_message_changelist"),
        "resend",
        [message],
    )

    assert logged(message) == ["Resent."]
