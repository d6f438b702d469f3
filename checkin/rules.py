"""Whether an event's door is open: the rule the door service and the page share."""

from django.utils.translation import gettext as _

from checkin import exceptions
from events.models import Event
from events.rules import checkin_window
from events.templatetags.turnout import zoned


def checkin_refusal(event: Event, *, now) -> exceptions.CheckInRefused | None:
    """Why nobody can be checked in at the event's door right now, or None if it is open.

    The door of a published event is open from a few hours before its start until a
    few hours after its end (checkin_window); a draft or cancelled event's never is.
    The message gives the time the door opens or closed, in the venue's zone.
    """
    if event.status == Event.Status.CANCELLED:
        return exceptions.EventNotOpenForCheckIn()
    if event.status != Event.Status.PUBLISHED:
        return exceptions.EventNotPublishedForCheckIn()
    opens, closes = checkin_window(event)
    if now < opens:
        return exceptions.DoorNotOpenYet(
            _("The door opens at %(time)s.")
            % {"time": zoned(opens, event.timezone, plain=True)}
        )
    if now >= closes:
        return exceptions.DoorClosed(
            _("The door closed at %(time)s: check-in has ended.")
            % {"time": zoned(closes, event.timezone, plain=True)}
        )
    return None
