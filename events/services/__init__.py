"""Every change to events and registrations, one function per state change.

registrations  the only code that decides a seat (register, cancel, promote, capacity)
lifecycle      an event's life as staff run it (change, publish, cancel, duplicate)
announcements  staff's own emails to attendees, and resends

Views, admin actions, tasks and commands call these; none repeats their logic.
"""

from events.services.announcements import email_attendees, resend_confirmation
from events.services.lifecycle import (
    EventChange,
    cancel_event,
    change_event,
    duplicate_event,
    publish_event,
    unpublish_event,
    update_event_details,
)
from events.services.registrations import (
    cancel_registration,
    promote,
    register,
    set_capacity,
)

__all__ = [
    "EventChange",
    "cancel_event",
    "cancel_registration",
    "change_event",
    "duplicate_event",
    "email_attendees",
    "promote",
    "publish_event",
    "register",
    "resend_confirmation",
    "set_capacity",
    "unpublish_event",
    "update_event_details",
]
