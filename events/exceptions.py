"""Domain errors. Each carries a message fit to show the person who caused it."""

from django.utils.translation import gettext_lazy as _


class TurnoutError(Exception):
    code = "error"
    default_message = _("That could not be done.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(self.message)


class RegistrationError(TurnoutError):
    """The event does not accept this registration now."""


class EventNotPublished(RegistrationError):
    code = "not_published"
    default_message = _("This event is not open to the public yet.")


class EventCancelled(RegistrationError):
    code = "cancelled"
    default_message = _("This event has been cancelled.")


class EventStarted(RegistrationError):
    code = "started"
    default_message = _("This event has already started, so registration is closed.")


class RegistrationNotOpenYet(RegistrationError):
    code = "not_open_yet"
    default_message = _("Registration for this event has not opened yet.")


class RegistrationClosed(RegistrationError):
    code = "closed"
    default_message = _("Registration for this event is closed.")


class CapacityError(TurnoutError):
    """A capacity that would put more people in the room than it holds."""


class EventBusy(TurnoutError):
    """The event's row stayed locked by another change for longer than
    EVENT_LOCK_TIMEOUT_SECONDS; nothing was changed, and trying again will do."""

    code = "busy"
    default_message = _(
        "This event is busy right now, so nothing was changed. "
        "Please try again in a moment."
    )


class RegistrationLocked(RegistrationError):
    code = "locked"
    default_message = _(
        "This event has already started, so registrations can no longer change."
    )
