"""Builds each message from templates: subject, plain text, HTML and the .ics invitation.

Rendering reads only the message and the rows it was claimed with (event,
registration, user), in the recipient's language. Times are the event's local time
with its zone's abbreviation, and the recipient's own when their clock differs.
"""

import base64
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import parseaddr
from functools import lru_cache
from urllib.parse import urlsplit

import icalendar
import segno
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from events import links
from events.models import (
    TICKET_ALPHABET,
    TICKET_LENGTH,
    Event,
    Message,
    Registration,
    grouped_ticket_code,
)
from events.templatetags.turnout import zone_if_clock_differs

Kind = Message.Kind
# The emails that carry the ticket: the code, its QR code inline and a link to it.
TICKET_KINDS = (Kind.CONFIRMED, Kind.PROMOTED)
SUBJECT_MAX = Message._meta.get_field("subject").max_length
TICKET_QR_SCALE = 6  # pixels per module: 174 px square with the quiet zone


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    ics: str = ""
    headers: dict = field(default_factory=dict)


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def release_url(registration: Registration) -> str:
    """The signed "Release my seat" link: works without logging in, until the start
    (events.links.RELEASE_SEAT)."""
    return absolute(links.path(links.RELEASE_SEAT, registration.pk))


def unsubscribe_url(user) -> str:
    """The signed one-click "stop reminder emails" link (links.STOP_REMINDERS)."""
    return absolute(links.path(links.STOP_REMINDERS, user.pk))


def unfollow_url(user, city_slug: str) -> str:
    """The signed one-click "stop news of this city" link (links.UNFOLLOW_CITY)."""
    return absolute(links.path(links.UNFOLLOW_CITY, [user.pk, city_slug]))


def _unsubscribe(message: Message) -> tuple[str, str]:
    """The one-click unsubscribe link for the emails that have one, and its words."""
    if message.kind == Kind.REMINDER:
        return unsubscribe_url(message.user), _("Stop reminder emails")
    if message.kind == Kind.CITY_NEWS:
        return (
            unfollow_url(message.user, message.context["city_slug"]),
            _("Stop news of events in %(city)s") % {"city": message.event.city},
        )
    return "", ""


def ticket_qr_cid(registration: Registration) -> str:
    """The Content-ID of the ticket's QR image: fixed per ticket, so the HTML
    rendered once and the image attached at each send attempt always agree."""
    host = urlsplit(settings.SITE_URL).hostname or "turnout.localhost"
    return f"ticket-{registration.ticket_code}@{host}"


def ticket_qr_png(code: str) -> bytes:
    """The code as a full QR code (never Micro QR, which phones do not read), PNG."""
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="png", scale=TICKET_QR_SCALE)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _ticket_qr_pixels() -> int:
    """The QR image's width and height. Every code has the same length and is in
    QR's alphanumeric set, so every ticket's QR code has the same size."""
    sample = TICKET_ALPHABET[-1] * TICKET_LENGTH
    return segno.make_qr(sample, error="m").symbol_size(scale=TICKET_QR_SCALE)[0]


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
        "ticket_code": grouped_ticket_code(code),
        "ticket_qr_cid": ticket_qr_cid(registration),
        "ticket_qr_size": _ticket_qr_pixels(),
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
        Kind.CITY_NEWS: _("Turnout comes to %(city)s: %(event)s"),
    }
    if message.kind == Kind.ANNOUNCEMENT:
        # Staff's own words; no % interpolation of what they typed, and never a
        # line break (a header) or more than the row holds.
        subject = " ".join(str(message.context.get("subject", "")).split())
        return f"[Turnout] {title}: {subject}"[:SUBJECT_MAX]
    when = _("in %(time)s") % {"time": _timeuntil(event.starts_at) if event else ""}
    city = event.city if event else ""
    subject = subjects[message.kind] % {"event": title, "when": when, "city": city}
    return f"[Turnout] {subject}"[:SUBJECT_MAX]


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


def calendar_uid(event: Event, user) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "turnout.localhost"
    return f"turnout-event-{event.pk}-attendee-{user.pk}@{host}"


@lru_cache(maxsize=256)
def vtimezone(tzid: str, first_year: int, last_year: int | None = None) -> bytes:
    """The VTIMEZONE for an IANA zone from first_year to the end of last_year (or of
    the year after first_year), written once per worker.

    icalendar's add_missing_timezones covers 1970-2038 for every calendar: some 140
    transitions to build and write out, most of a message's rendering time and
    size. A calendar needs only the observances around its own dates (RFC 5545,
    3.6.5), the same for every attendee of every event in that zone.
    """
    last_year = max(last_year or first_year + 1, first_year)
    return icalendar.Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    ).to_ical()


def invitation(message: Message, method: str) -> str:
    """The .ics for this message: one stable UID per (event, attendee)."""
    event, user = message.event, message.user
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Turnout//Turnout events//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    vevent = icalendar.Event()
    vevent.add("uid", calendar_uid(event, user))
    vevent.add("dtstamp", timezone.now())
    vevent.add("sequence", calendar_sequence(message, method))
    vevent.add("dtstart", event.starts_at.astimezone(event.zone))
    vevent.add("dtend", event.ends_at.astimezone(event.zone))
    vevent.add("summary", event.title)
    vevent.add("location", f"{event.venue_name}, {event.venue_address}")
    vevent.add("url", absolute(event.get_absolute_url()))
    vevent.add("description", absolute(event.get_absolute_url()))
    cancelled = method == "CANCEL"
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer_name, organizer_email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = icalendar.vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = icalendar.vText(organizer_name or "Turnout")
    vevent.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{message.to_email}")
    attendee.params["cn"] = icalendar.vText(user.get_full_name())
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = icalendar.vText(
        "DECLINED" if cancelled else "ACCEPTED"
    )
    attendee.params["rsvp"] = icalendar.vText("FALSE")
    vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    # The zone goes before the event that refers to it, as clients expect.
    head, begin, rest = calendar.to_ical().partition(b"BEGIN:VEVENT\r\n")
    zone = vtimezone(event.timezone, event.starts_at.astimezone(event.zone).year)
    return (head + zone + begin + rest).decode()


def _plain(text: str) -> str:
    """text as a plain str: render_to_string returns a SafeString."""
    return str.__str__(text)  # a copy as the base type, without the safe mark


def render(message: Message) -> Rendered:
    """Renders an event message in the recipient's language. Reads no other rows."""
    language = message.language or settings.LANGUAGE_CODE
    with translation.override(language):
        event, registration, user = message.event, message.registration, message.user
        event.set_current_language(language)  # parler: the title in their language
        method = _calendar_method(message) if registration else ""
        active = registration and registration.status != Registration.Status.CANCELLED
        unsubscribe, unsubscribe_text = _unsubscribe(message)
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
            "release_url": release_url(registration)
            if active and event.status != Event.Status.CANCELLED
            else "",
            "unsubscribe_url": unsubscribe,
            "unsubscribe_text": unsubscribe_text,
            "calendar_method": method,
            "announcement": message.context.get("body", ""),
            "site_url": settings.SITE_URL,
            **_ticket_context(message),
        }
        rendered = Rendered(
            subject=_subject(message, event),
            # Plain text is not HTML: never marked safe, so a page that shows it
            # (the admin's previews) escapes what attendees typed into it.
            text=_plain(render_to_string(f"emails/{message.kind}.txt", context)),
            html=render_to_string(f"emails/{message.kind}.html", context),
            ics=invitation(message, method) if method else "",
        )
    if context["unsubscribe_url"]:
        rendered.headers = {
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return rendered


class EmailWithInlineImages(EmailMultiAlternatives):
    """An email whose HTML shows images by cid: URL.

    The HTML alternative and its images travel together in one multipart/related
    part (RFC 2387), so mail clients show the images in place, not as attachments:
    multipart/alternative holds text/plain and multipart/related (text/html and the
    images); other attachments (the invitation) stay outside, as before.

    Each multipart part gets its boundary here, a random 128-bit token. Left to
    itself, the email package picks a boundary and compiles a new regular expression
    per part to check the body for it, which was a tenth of a worker's time per
    message (and flushed the re module's cache); a token of that size cannot turn up
    in a body by chance.
    """

    def __init__(self, *args, inline_images: Sequence[MIMEImage] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.inline_images = list(inline_images)

    def message(self):
        msg = super().message()
        if self.inline_images:
            _relate_html(msg, self.inline_images)
        for part in msg.walk():
            if part.is_multipart():
                part.set_boundary(f"==turnout-{secrets.token_hex(16)}==")
        return msg


def _relate_html(msg, images: Sequence[MIMEImage]) -> None:
    for part in msg.walk():
        if part.get_content_type() != "multipart/alternative":
            continue
        children = part.get_payload()
        for index, child in enumerate(children):
            if child.get_content_type() == "text/html":
                related = MIMEMultipart("related", type="text/html")
                related.attach(child)
                for image in images:
                    related.attach(image)
                children[index] = related
                return


def _ticket_images(message: Message) -> list[MIMEImage]:
    """The ticket's QR code, when the rendered HTML shows it.

    Generated at each send from the ticket code (deterministic, nothing stored); the
    HTML is the judge, so a retry of a message rendered without it stays without.
    """
    if message.kind not in TICKET_KINDS or message.registration is None:
        return []
    cid = ticket_qr_cid(message.registration)
    if f"cid:{cid}" not in message.body_html:
        return []
    image = MIMEImage(ticket_qr_png(message.registration.ticket_code), "png")
    image.add_header("Content-ID", f"<{cid}>")
    image.add_header("Content-Disposition", "inline", filename="ticket.png")
    return [image]


def html_for_browser(html: str, registration: Registration | None) -> str:
    """The HTML with the ticket's QR image inlined as a data: URL, for the admin's
    previews: a browser cannot resolve the cid: URL the email uses."""
    if registration is None:
        return html
    cid = f"cid:{ticket_qr_cid(registration)}"
    if cid not in html:
        return html
    png = base64.b64encode(ticket_qr_png(registration.ticket_code)).decode()
    return html.replace(cid, f"data:image/png;base64,{png}")


def as_email(message: Message, connection) -> EmailMultiAlternatives:
    """The rendered row as a MIME message: text, HTML (with the ticket's QR code
    inline, for confirmations) and the invitation."""
    email = EmailWithInlineImages(
        subject=message.subject,
        body=message.body_text,
        to=[message.to_email],
        headers={"X-Turnout-Message": str(message.pk), **message.headers},
        connection=connection,
        inline_images=_ticket_images(message),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.ics:
        method = next(
            line.split(":", 1)[1]
            for line in message.ics.splitlines()
            if line.startswith("METHOD:")
        )
        part = MIMEText(message.ics, "calendar", "utf-8")
        part.set_param("method", method)
        part.add_header("Content-Disposition", "attachment", filename="invite.ics")
        email.attach(part)
    return email


def sample_messages() -> list[Message]:
    """Unsaved messages of every kind for the admin's preview; no database rows."""
    from events.models import EventSeries

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
    from accounts.models import User

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
        Kind.CITY_NEWS: {"city_slug": "san-francisco"},
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
        if kind != Kind.ACCOUNT
    ]
