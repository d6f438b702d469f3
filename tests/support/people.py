"""People as the privacy tests set them up: registered, signed in again."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts import privacy
from events import services
from tests.factories import EventFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


def registered(event, user):
    return services.register(event=event, user=user)


def started_event(**fields):
    now = timezone.now()
    return EventFactory(
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2), **fields
    )


def reauthenticated(client, user):
    """Signs user in and confirms the password again, as allauth asks before
    deleting an account."""
    client.force_login(user)
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302
    return client


def sessions_of(user):
    return set(privacy.session_expiries(user))
