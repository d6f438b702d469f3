"""The door: check-in pages for staff and volunteers.

Check-in works without JavaScript: the page's form posts to checkin_scan, which
renders the page again with the result. With JavaScript (checkin/static/checkin/checkin.js)
the same form is sent by fetch() with ``Accept: application/json`` and the answer is
JSON; the camera scan submits the code it reads through the same form.
"""

from dataclasses import asdict, dataclass

from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from checkin import exceptions, services
from checkin.forms import TicketCodeForm
from checkin.rules import checkin_refusal
from events import ratelimits, selectors
from events.models import Event, Registration
from events.templatetags.turnout import zone_abbreviation

Status = Registration.Status
CHECK_IN_PERMISSION = "events.check_in"


@dataclass(frozen=True)
class Outcome:
    """What the door is told about one code: the same for the page and for JSON."""

    ok: bool
    status: str  # "checked_in", "already_checked_in", or why the code was refused
    headline: str  # the attendee's name, or "Not checked in"
    message: str
    name: str = ""
    first: bool = False
    checked_in_at: str = ""  # ISO 8601
    checked_in_at_local: str = ""  # HH:MM and zone, at the venue
    checked_in_by: str = ""

    @property
    def tone(self) -> str:
        if not self.ok:
            return "danger"
        return "success" if self.first else "warning"


def door_name(user: User | None) -> str:
    """The name the door shows for a person: their display name, or when they have
    none a masked address, "a…@example.com" ("anonymous" once the account is gone).

    The door's screen is seen by volunteers who are not staff, and by whoever stands
    behind the attendee, so it never shows an address whole. The first letter and
    the domain are enough for the attendee to recognise their own ("is it
    a…@example.com?"); the rest of the local part, often a full name, stays hidden.
    """
    if user is None:
        return _("anonymous")
    if user.name:
        return user.name
    local, at, domain = user.email.rpartition("@")
    if not at:
        return f"{domain[:1]}…"
    return f"{local[:1]}…@{domain}"


def _admitted(check_in: services.CheckIn, event: Event) -> Outcome:
    registration = check_in.registration
    name = door_name(registration.user)
    local = registration.checked_in_at.astimezone(event.zone)
    at = f"{dateformat.format(local, 'H:i')} {zone_abbreviation(local)}"
    by = registration.checked_in_by
    by_name = door_name(by) if by else ""
    if check_in.first:
        message = _("Checked in ✓")
    elif by_name:
        message = _("Already checked in at %(time)s by %(person)s.") % {
            "time": at,
            "person": by_name,
        }
    else:
        message = _("Already checked in at %(time)s.") % {"time": at}
    return Outcome(
        ok=True,
        status="checked_in" if check_in.first else "already_checked_in",
        headline=name,
        message=message,
        name=name,
        first=check_in.first,
        checked_in_at=registration.checked_in_at.isoformat(),
        checked_in_at_local=at,
        checked_in_by=by_name,
    )


def _refused(status: str, message: str) -> Outcome:
    return Outcome(
        ok=False, status=status, headline=_("Not checked in"), message=str(message)
    )


def _rate_limited(limited: ratelimits.Limited) -> Outcome:
    minutes = limited.minutes
    message = ngettext(
        "Too many attempts. Try again in %(minutes)d minute.",
        "Too many attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    return _refused("rate_limited", message)


def _render_door(request, event, *, form=None, result=None, status=200):
    """The door's page; while the door is shut, its reason instead of the form."""
    context = {
        "event": event,
        "form": form or TicketCodeForm(),
        "result": result,
        "closed": checkin_refusal(event, now=timezone.now()),
    }
    return render(request, "checkin/door.html", context, status=status)


@login_required
@permission_required(CHECK_IN_PERMISSION, raise_exception=True)
@require_GET
def checkin_page(request, slug):
    """The door's page: type or scan a code, see who it is, count who is in."""
    return _render_door(
        request,
        get_object_or_404(selectors.with_admin_counts(Event.objects), slug=slug),
    )


@login_required
@permission_required(CHECK_IN_PERMISSION, raise_exception=True)
@require_POST
def checkin_scan(request, slug):
    """Checks in the holder of the posted code, through services.check_in.

    Answers JSON when the request prefers application/json, else the check-in page
    rendered again with the result. The status code is the same for both:

    - 200: the code was read. ``ok`` is true for a check-in (``first`` false when it
      had been checked in before, with when and by whom), false with ``status``
      naming the reason when the ticket is refused (unknown code, another event,
      not confirmed, cancelled event). A refused ticket is a normal outcome at the
      door, not a fault in the request, and changes nothing. A door that is not open
      (before the hours around the event, after them, a draft or cancelled event)
      refuses every code the same way.
    - 400: there was nothing to read: no code, or input no ticket code can be (far
      too long, control characters). ``ok`` is false, ``status`` is "invalid".
    - 429: too many scans by this volunteer or from this address
      (ratelimits, "checkin"): ``status`` is "rate_limited", with a Retry-After
      header; nothing was looked up or changed.
    - 403 without the check-in permission, 404 for an unknown event, 405 for
      anything but POST.
    """
    event = get_object_or_404(Event, slug=slug)
    form = TicketCodeForm(request.POST)
    limited = ratelimits.limit(request, "checkin")
    if limited is not None:
        outcome = _rate_limited(limited)
        status = 429
    elif form.is_valid():
        try:
            check_in = services.check_in(
                event=event, code=form.cleaned_data["code"], by=request.user
            )
        except exceptions.CheckInRefused as refusal:
            outcome = _refused(refusal.code, refusal.message)
        else:
            outcome = _admitted(check_in, event)
        status = 200
    else:
        outcome = _refused("invalid", form.errors["code"][0])
        status = 400
    if request.get_preferred_type(["text/html", "application/json"]) == (
        "application/json"
    ):
        response = JsonResponse(asdict(outcome), status=status)
    else:
        door = selectors.with_admin_counts(Event.objects).get(pk=event.pk)
        # A refused code stays in the box, to be checked; after a check-in it is empty.
        kept = None if outcome.ok else form
        response = _render_door(request, door, form=kept, result=outcome, status=status)
    if limited is not None:
        response["Retry-After"] = str(limited.retry_after)
    return response


@login_required
@permission_required(CHECK_IN_PERMISSION, raise_exception=True)
@require_GET
def checkin_stats(request, slug):
    """The counter, as JSON: {"checked_in": n, "confirmed": m}, in one query."""
    event = get_object_or_404(selectors.with_admin_counts(Event.objects), slug=slug)
    return JsonResponse(
        {"checked_in": event.checked_in_count, "confirmed": event.confirmed_count}
    )
