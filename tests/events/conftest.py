import pytest

from events import services
from events.models import Registration
from tests.factories import UserFactory
from tests.support.door import at_the_door


@pytest.fixture
def attendee_client(client):
    """A test client signed in as a verified attendee, who is `client.user`."""
    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def event():
    """An event with two seats whose door is open (tests/support/door.py)."""
    return at_the_door(capacity=2, title="Tour stop Berlin")


@pytest.fixture
def confirmed(event):
    """Ada Lovelace's confirmed registration for event."""
    registration = services.register(event=event, user=UserFactory(name="Ada Lovelace"))
    assert registration.status == Registration.Status.CONFIRMED
    return registration
