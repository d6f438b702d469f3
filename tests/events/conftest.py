import pytest

from tests.factories import UserFactory


@pytest.fixture
def attendee_client(client):
    """A test client signed in as a verified attendee, who is `client.user`."""
    user = UserFactory()
    client.force_login(user)
    client.user = user
    return client
