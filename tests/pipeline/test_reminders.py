"""Reminders through the real pipeline: two beat processes, one worker, SMTP."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from events.messages import Kind
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory
from tests.pipeline.conftest import wait_until

pytestmark = pytest.mark.postgres


def test_two_beat_processes_deliver_one_reminder_per_registration(mail_pipeline):
    now = timezone.now()
    event = EventFactory(
        starts_at=now + timedelta(hours=23), ends_at=now + timedelta(hours=26)
    )
    registrations = RegistrationFactory.create_batch(5, event=event)
    mail_pipeline.start_beat()
    mail_pipeline.start_beat()  # both scan every second

    wait_until(
        lambda: (
            Message.objects.filter(
                kind=Kind.REMINDER, status=Message.Status.SENT
            ).count()
            == 5
        ),
        what="five reminders sent",
    )
    time.sleep(3)  # several more scans by each beat

    for registration in registrations:
        received = mail_pipeline.sink.messages_to(registration.user.email)
        assert [m["Subject"] for m in received] == [
            f"[Turnout] Reminder: {event.title} starts in 22 hours"
        ]
    assert Message.objects.filter(kind=Kind.REMINDER).count() == 5
