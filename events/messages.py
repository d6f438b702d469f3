"""What events tells attendees: its kinds of message, their rendering in the
recipient's language (subject, text, HTML, the .ics invitation), whether each is still
true when it can be sent, and the ticket's QR image the confirmations carry.

Rendering reads only the message and the rows it was claimed with (event,
registration, user). Times are the event's local time with its zone's abbreviation,
and the recipient's own when their clock differs.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from email.mime.image import MIMEImage

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from config.site import absolute, host
from events import calendar, tickets
from events.models import Event, EventSeries, Registration
from events.rules import reminder_refusal
from events.templatetags.turnout import zone_if_clock_differs
from notifications import kinds, links, upkeep
from notifications.kinds import Rendered
from notifications.models import Message
from notifications.outbox import message as new_message


class Kind(models.TextChoices):
    """The messages events sends, each about one registration."""

    CONFIRMED = "confirmed", gettext_lazy("Registration confirmed")
    WAITLISTED = "waitlisted", gettext_lazy("Joined the waitlist")
    PROMOTED = "promoted", gettext_lazy("Promoted from the waitlist")
    CANCELLED = "cancelled", gettext_lazy("Registration cancelled")
    EVENT_CHANGED = "event_changed", gettext_lazy("Event changed")
    EVENT_CANCELLED = "event_cancelled", gettext_lazy("Event cancelled")
    REMINDER = "reminder", gettext_lazy("Reminder")
    ANNOUNCEMENT = "announcement", gettext_lazy("Announcement from the organizers")


# The emails that carry the ticket: the code, its QR code inline and a link to it.
TICKET_KINDS = (Kind.CONFIRMED, Kind.PROMOTED)
SUBJECT_MAX = Message._meta.get_field("subject").max_length
NOT_PUBLISHED = "The event was no longer published when this could be sent."
# Loaded with every claimed row, so rendering reads no other rows.
RELATED = ("event", "event__series", "registration")
PREFETCH = ("event__translations",)


def for_registration(
    registration: Registration, kind: str, *, key: str = "", context=None
) -> Message:
    """An unsaved message about a registration, to its attendee, in their language.

    key completes the dedupe key (registration, kind[, key]): the same one is never
    queued twice. A registration whose attendee's data was erased gets a message
    with no recipient, which delivery skips.
    """
    return new_message(
        kind,
        user=registration.user,
        dedupe_key=f"reg:{registration.pk}:{kind}" + (f":{key}" if key else ""),
        context=context,
        event_id=registration.event_id,
        registration=registration,
    )


# Whether it is still true -------------------------------------------------------------
def skip_reason(message: Message, now: datetime) -> str:
    """Why an event message is no longer true or worth sending, or "" when it is.

    A confirmation held up by a mail-server outage is not delivered after the
    registration or the event was cancelled, nor a reminder (rules.reminder_refusal,
    the scan's own rule) or a change notice after the event went back to draft.
    """
    registration, event = message.registration, message.event
    if registration is None:
        return ""
    if message.kind == Kind.REMINDER:
        return reminder_refusal(registration, at=now)
    if message.kind in (
        Kind.CONFIRMED,
        Kind.PROMOTED,
        Kind.EVENT_CHANGED,
        Kind.ANNOUNCEMENT,
    ):
        if event.status == Event.Status.CANCELLED:
            return "The event was cancelled before this could be sent."
        if registration.status == Registration.Status.CANCELLED:
            return "The registration was cancelled before this could be sent."
    if message.kind == Kind.EVENT_CHANGED and event.status != Event.Status.PUBLISHED:
        # As update_event_details tells nobody of a change to an unpublished event.
        return NOT_PUBLISHED
    if (
        message.kind == Kind.WAITLISTED
        and registration.status != Registration.Status.WAITLISTED
    ):
        return "No longer on the waitlist when this could be sent."
    return ""


# Rendering ---------------------------------------------------------------------------
def ticket_qr_cid(registration: Registration) -> str:
    """The Content-ID of the ticket's QR image: fixed per ticket, so the HTML
    rendered once and the image attached at each send attempt always agree."""
    return f"ticket-{registration.ticket_code}@{host()}"


def _ticket_context(message: Message) -> dict:
    """The ticket's code, image and link, for the emails that carry it while the
    registration is confirmed; nothing (and no QR work) for any other email."""
    registration = message.registration
    if (
        message.kind not in TICKET_KINDS
        or registration.status != Registration.Status.CONFIRMED
    ):
        return {}
    code = registration.ticket_code
    return {
        "ticket_code": tickets.grouped_ticket_code(code),
        "ticket_qr_cid": ticket_qr_cid(registration),
        "ticket_qr_size": tickets.qr_png_pixels(),
        "ticket_url": absolute(reverse("events:ticket", kwargs={"code": code})),
    }


def _subject(message: Message, event: Event | None) -> str:
    title = event.title if event else ""
    subjects = {
        Kind.CONFIRMED: _("You're registered: %(event)s"),
        Kind.WAITLISTED: _("You're on the waitlist: %(event)s"),
        Kind.PROMOTED: _("You're in! A seat opened up: %(event)s"),
        Kind.CANCELLED: _("Registration cancelled: %(event)s"),
        Kind.EVENT_CHANGED: _("Changed: %(event)s"),
        Kind.EVENT_CANCELLED: _("Cancelled: %(event)s"),
        Kind.REMINDER: _("Reminder: %(event)s starts %(when)s"),
    }
    if message.kind == Kind.ANNOUNCEMENT:
        # Staff's own words; no % interpolation of what they typed, and never a
        # line break (a header) or more than the row holds.
        subject = " ".join(str(message.context.get("subject", "")).split())
        return subject_line(f"{title}: {subject}")
    when = _("in %(time)s") % {"time": _timeuntil(event.starts_at) if event else ""}
    return subject_line(subjects[message.kind] % {"event": title, "when": when})


def subject_line(text: str) -> str:
    """An email's subject: Turnout's tag, and no more than the row holds."""
    return f"[Turnout] {text}"[:SUBJECT_MAX]


def _timeuntil(moment: datetime) -> str:
    from django.utils.timesince import timeuntil

    return timeuntil(moment, depth=1).replace("\xa0", " ")


def _previous(message: Message) -> dict:
    """The event's details before the change this message announces."""
    previous = dict(message.context.get("previous", {}))
    for name in ("starts_at", "ends_at"):
        if name in previous:
            previous[name] = datetime.fromisoformat(previous[name])
    return previous


def _calendar_method(message: Message) -> str:
    """REQUEST puts (or keeps) the event in the attendee's calendar; CANCEL removes it."""
    registration = message.registration
    confirmed = registration.status == Registration.Status.CONFIRMED
    if message.kind in (Kind.CONFIRMED, Kind.PROMOTED, Kind.REMINDER):
        return "REQUEST"
    if message.kind == Kind.ANNOUNCEMENT:
        return "REQUEST" if confirmed else ""
    if message.kind == Kind.EVENT_CHANGED:
        return "REQUEST" if confirmed else ""
    if message.kind == Kind.CANCELLED:
        return "CANCEL" if message.context.get("was") == "confirmed" else ""
    if message.kind == Kind.EVENT_CANCELLED:
        return "CANCEL" if confirmed else ""
    return ""


def calendar_sequence(message: Message, method: str) -> int:
    """SEQUENCE grows with each change of the event and each re-registration.

    event.sequence rises at every change of time or venue and at cancellation; each
    new registration of the same attendee starts two past the previous one, so the
    CANCEL of a registration (+1) is newer than its REQUESTs and older than the next
    registration's.
    """
    registration = message.registration
    sequence = message.event.sequence + registration.calendar_offset
    if message.kind == Kind.CANCELLED and method == "CANCEL":
        sequence += 1
    return sequence


def _plain(text: str) -> str:
    """text as a plain str: render_to_string returns a SafeString."""
    return str.__str__(text)  # a copy as the base type, without the safe mark


def _stop_reminders(message: Message) -> tuple[str, str]:
    if message.kind != Kind.REMINDER:
        return "", ""
    return links.url(links.STOP_REMINDERS, message.user.pk), _("Stop reminder emails")


def render_about_event(
    message: Message,
    *,
    subject: Callable[[Message], str] | None = None,
    unsubscribe: Callable[[Message], tuple[str, str]] = _stop_reminders,
) -> Rendered:
    """Renders a message about an event (emails/<kind>.txt and .html) in the
    recipient's language: events' own kinds, and those of the apps built on events
    (a city's news). subject(message), when given, replaces the kind's own;
    unsubscribe(message) is the one-click link and its words, or two empty strings.
    Both are called in the recipient's language."""
    language = message.language or settings.LANGUAGE_CODE
    with translation.override(language):
        event, registration, user = message.event, message.registration, message.user
        event.set_current_language(language)  # parler: the title in their language
        method = _calendar_method(message) if registration else ""
        active = registration and registration.status != Registration.Status.CANCELLED
        unsubscribe_url, unsubscribe_text = unsubscribe(message)
        context = {
            "kind": message.kind,
            "event": event,
            "registration": registration,
            "name": user.get_short_name(),
            "event_url": absolute(event.get_absolute_url()),
            "viewer_zone": zone_if_clock_differs(user.timezone, event),
            "position": message.context.get("position"),
            "was": message.context.get("was"),
            "previous": _previous(message),
            "release_url": links.url(links.RELEASE_SEAT, registration.pk)
            if active and event.status != Event.Status.CANCELLED
            else "",
            "unsubscribe_url": unsubscribe_url,
            "unsubscribe_text": unsubscribe_text,
            "calendar_method": method,
            "announcement": message.context.get("body", ""),
            "site_url": settings.SITE_URL,
            **_ticket_context(message),
        }
        rendered = Rendered(
            subject=subject(message) if subject else _subject(message, event),
            # Plain text is not HTML: never marked safe, so a page that shows it
            # (the admin's previews) escapes what attendees typed into it.
            text=_plain(render_to_string(f"emails/{message.kind}.txt", context)),
            html=render_to_string(f"emails/{message.kind}.html", context),
            ics=calendar.invitation(
                event=event,
                user=user,
                to_email=message.to_email,
                method=method,
                sequence=calendar_sequence(message, method),
            )
            if method
            else "",
        )
    if context["unsubscribe_url"]:
        rendered.headers = {
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return rendered


def ticket_images(message: Message, html: str) -> list[MIMEImage]:
    """The ticket's QR code, when the rendered HTML shows it.

    Generated at each send from the ticket code (deterministic, nothing stored); the
    HTML is the judge, so a retry of a message rendered without it stays without.
    """
    if message.kind not in TICKET_KINDS or message.registration is None:
        return []
    cid = ticket_qr_cid(message.registration)
    if f"cid:{cid}" not in html:
        return []
    image = MIMEImage(tickets.qr_png(message.registration.ticket_code), "png")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename="ticket.png")
    return [image]


def sample_messages() -> list[Message]:
    """Unsaved messages of every kind events sends, for the admin's preview; no
    database rows."""

    now = timezone.now().replace(second=0, microsecond=0)
    series = EventSeries(name="Turnout", slug="turnout")
    event = Event(
        pk=1,
        series=series,
        title="Turnout San Francisco",
        slug="turnout-sf",
        city="San Francisco",
        country="US",
        venue_name="The Hall",
        venue_address="1 Market St, San Francisco, CA",
        timezone="America/Los_Angeles",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=3),
        capacity=100,
        status=Event.Status.PUBLISHED,
        sequence=1,
    )
    user = User(pk=1, email="ada@example.com", name="Ada", timezone="Europe/London")
    registration = Registration(
        pk=1,
        event=event,
        user=user,
        status=Registration.Status.CONFIRMED,
        confirmed_at=now,
    )
    contexts = {
        Kind.WAITLISTED: {"position": 3},
        Kind.CANCELLED: {"was": "confirmed"},
        Kind.EVENT_CHANGED: {
            "previous": {
                "starts_at": (event.starts_at - timedelta(hours=1)).isoformat(),
                "venue_name": "The Old Hall",
            }
        },
        Kind.REMINDER: {"offset": 24 * 60},
        Kind.ANNOUNCEMENT: {
            "subject": "Doors open at 5:30",
            "body": "Doors open half an hour early.\n\nBring a laptop!",
        },
    }
    return [
        Message(
            pk=0,
            kind=kind,
            user=user,
            to_email=user.email,
            event=event,
            registration=registration,
            context=contexts.get(kind, {}),
        )
        for kind in Kind.values
    ]


def _samples_of(kind: str):
    return lambda: [m for m in sample_messages() if m.kind == kind]


def aged_with_the_event(cutoff: datetime) -> tuple[Q, Q]:
    """A message about an event is old once the event ended before cutoff: while
    the event is recent, its dedupe keys still stop a second send."""
    return Q(event__isnull=False), Q(event__ends_at__lt=cutoff)


def register() -> None:
    """Registers events' kinds with the outbox (EventsConfig.ready)."""
    kinds.register(
        *(
            kinds.Kind(
                name=kind.value,
                label=kind.label,
                render=render_about_event,
                skip_reason=skip_reason,
                inline_images=ticket_images,
                samples=_samples_of(kind.value),
                related=RELATED,
                prefetch=PREFETCH,
            )
            for kind in Kind
        )
    )
    upkeep.age_by(aged_with_the_event)
