# The events tests' fixtures (an event at the door, a confirmed attendee, a signed-in
# attendee), shared with this app's tests.
from tests.events.conftest import attendee_client, confirmed, event  # noqa: F401
