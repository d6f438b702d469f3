from allauth.account.decorators import verified_email_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import ratelimits, selectors, services, tickets
from events.exceptions import EventBusy, RegistrationError
from events.models import Event, Registration
from events.rules import registration_refusal
from events.templatetags.turnout import zone_if_clock_differs
from notifications import links


@require_GET
def home(request):
    cities = selectors.upcoming_events_by_city(viewer=request.user)
    return render(request, "events/home.html", {"cities": cities})


@require_GET
def event_detail(request, slug):
    event = selectors.event_for_page(slug=slug, user=request.user)
    registration = selectors.active_registration(event=event, user=request.user)
    now = timezone.now()
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "registration": registration,
            "refusal": registration_refusal(event, now=now),
            "has_ended": event.ends_at <= now,
            "viewer_zone": zone_if_clock_differs(request.viewer_zone, event),
        },
    )


@require_POST
def register(request, slug):
    event = selectors.event_for_page(slug=slug, user=request.user)
    if not request.user.is_authenticated:
        messages.info(
            request,
            _(
                "Create an account or sign in, then come back here to register for %(event)s."
            )
            % {"event": event.title},
        )
        return redirect_to_login(event.get_absolute_url(), reverse("account_signup"))
    return _register_verified(request, event)


@verified_email_required
def _register_verified(request, event):
    too_often = ratelimits.refused(request, "registration", target=_target(event.pk))
    if too_often is not None:
        return too_often
    try:
        registration = services.register(event=event, user=request.user)
    except (RegistrationError, EventBusy) as error:
        messages.error(request, error.message)
        return redirect(event)
    if registration.status == Registration.Status.CONFIRMED:
        messages.success(request, _("Your seat is confirmed. See you there!"))
    else:
        messages.info(request, _("The event is full, so you're on the waitlist."))
    return redirect(event)


@require_http_methods(["GET", "POST"])
@login_required
def cancel(request, pk):
    """GET asks "are you sure?"; POST cancels. Another person's registration is a 404."""
    registration = selectors.registration_of(user=request.user, pk=pk)
    if registration.status == Registration.Status.CANCELLED:
        return redirect(registration.event)
    return _confirm_then_cancel(
        request,
        registration,
        _("Your registration is cancelled. Thanks for freeing the seat."),
    )


def _target(event_id: int) -> str:
    """Registering and cancelling share one count per person and event."""
    return f"event:{event_id}"


def _confirm_then_cancel(request, registration, seat_freed_message):
    """GET renders "are you sure?"; POST cancels through the service and says so.

    A POST is counted against the owner's limits (ratelimits, "registration"),
    whether they are signed in or used a signed link; over them it is a 429.
    """
    if request.method == "GET":
        context = {"registration": registration}
        return render(request, "events/cancel_confirm.html", context)
    too_often = ratelimits.refused(
        request,
        "registration",
        user_id=registration.user_id,
        target=_target(registration.event_id),
    )
    if too_often is not None:
        return too_often
    was_waitlisted = registration.status == Registration.Status.WAITLISTED
    try:
        services.cancel_registration(registration=registration)
    except (RegistrationError, EventBusy) as error:
        messages.error(request, error.message)
        return redirect(registration.event)
    if was_waitlisted:
        messages.success(request, _("You have left the waitlist."))
    else:
        messages.success(request, seat_freed_message)
    return redirect(registration.event)


@require_http_methods(["GET", "POST"])
def release(request, token):
    """The signed "Release my seat" link from an email: no login, one POST.

    GET asks "are you sure?" (mail scanners follow links; they must not cancel).
    A tampered link is a 400, a link whose event has started a 410; neither changes
    anything.
    """
    try:
        pk = links.read(links.RELEASE_SEAT, token)
    except signing.BadSignature:
        return links.invalid_link_page(request, status=400)
    registration = selectors.registration_for_release(pk=pk)
    if registration is None:
        return links.invalid_link_page(request, status=400)
    event = registration.event
    if registration.status == Registration.Status.CANCELLED:
        messages.info(request, _("This registration was already cancelled."))
        return redirect(event)
    if timezone.now() >= event.starts_at:
        return links.invalid_link_page(request, status=410, expired=True)
    return _confirm_then_cancel(
        request,
        registration,
        _("Your seat is released. Thanks for letting someone else come."),
    )


@require_GET
@login_required
def my_registrations(request):
    doors = []
    if request.user.has_perm("events.check_in"):
        doors = selectors.events_at_the_door(now=timezone.now())
    return render(
        request,
        "events/my_registrations.html",
        {
            "registrations": selectors.registrations_of(user=request.user),
            "doors": doors,
        },
    )


@require_GET
@login_required
def ticket(request, code):
    """The attendee's own ticket: its code, and a QR code while it admits them.

    Any code that is not one of the viewer's tickets is a 404, never a 403, so
    codes cannot be probed.
    """
    normalized = tickets.normalize_ticket_code(code)
    if not tickets.is_ticket_code(normalized):
        raise Http404
    registration = get_object_or_404(
        Registration.objects.select_related("event", "event__series", "user"),
        ticket_code=normalized,
        user=request.user,
    )
    grouped = tickets.grouped_ticket_code(registration.ticket_code)
    admits = (
        registration.status == Registration.Status.CONFIRMED
        and registration.event.status != Event.Status.CANCELLED
    )
    qr = ""
    if admits:
        title = _("QR code for ticket %(code)s") % {"code": grouped}
        qr = mark_safe(tickets.qr_svg(registration.ticket_code, title=title))  # noqa: S308 -- segno escapes the title; the rest is its own markup
    context = {
        "registration": registration,
        "event": registration.event,
        "grouped_code": grouped,
        "qr_svg": qr,
    }
    return render(request, "events/ticket.html", context)
