"""Why a code lets nobody in at a door: each has a code the door's JSON carries."""

from django.utils.translation import gettext_lazy as _

from events.exceptions import TurnoutError


class CheckInRefused(TurnoutError):
    """A code that does not let anyone in at this event's door."""


class UnknownTicket(CheckInRefused):
    code = "unknown"
    default_message = _("No ticket has this code. Check it and try again.")


class TicketForAnotherEvent(CheckInRefused):
    code = "other_event"
    default_message = _("This ticket is for another event.")


class TicketNotConfirmed(CheckInRefused):
    code = "not_confirmed"


class EventNotOpenForCheckIn(CheckInRefused):
    code = "event_closed"
    default_message = _("This event is cancelled: nobody can be checked in.")


class EventNotPublishedForCheckIn(CheckInRefused):
    code = "not_published"
    default_message = _("This event is not published: nobody can be checked in.")


class DoorNotOpenYet(CheckInRefused):
    code = "door_not_open_yet"
    default_message = _("The door is not open yet.")


class DoorClosed(CheckInRefused):
    code = "door_closed"
    default_message = _("The door is closed: check-in has ended.")
