from datetime import UTC, datetime
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from parler.models import TranslatableModel, TranslatedField, TranslatedFields

from accounts.models import language_choices
from accounts.timezones import timezone_choices, validate_timezone
from accounts.validators import validate_one_line
from events.tickets import TICKET_LENGTH, new_ticket_code

DEFAULT_REMINDER_OFFSETS = [24 * 60, 2 * 60]


# Every moment of an event lies in these years (local time at the venue). Outside
# them, converting between zones or writing the calendar's next year overflows
# Python's datetime; no real event is planned there.
EARLIEST_EVENT_YEAR = 2000
LATEST_EVENT_YEAR = 2099
# The same bounds in UTC for the database, a day wider: a local 2000-01-01 00:00 in
# Kiribati (UTC+14) is still 1999 in UTC.
EARLIEST_EVENT_MOMENT = datetime(EARLIEST_EVENT_YEAR - 1, 12, 31, tzinfo=UTC)
LATEST_EVENT_MOMENT = datetime(LATEST_EVENT_YEAR + 1, 1, 2, tzinfo=UTC)


def validate_event_moment(value: datetime) -> None:
    """Refuses a date outside EARLIEST_EVENT_YEAR..LATEST_EVENT_YEAR.

    Reads the year in the value's own zone, so it never converts (and so never
    overflows) first.
    """
    if not EARLIEST_EVENT_YEAR <= value.year <= LATEST_EVENT_YEAR:
        raise ValidationError(
            _("Choose a date between the years %(earliest)d and %(latest)d."),
            code="date_out_of_range",
            params={"earliest": EARLIEST_EVENT_YEAR, "latest": LATEST_EVENT_YEAR},
        )


def default_reminder_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


def validate_reminder_offsets(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(minutes, int) and 0 < minutes <= 60 * 24 * 60 for minutes in value
    ):
        raise ValidationError(
            _("Reminder times are whole minutes before the start, up to 60 days."),
            code="reminder_offsets",
        )


class EventSeries(models.Model):
    name = models.CharField(_("name"), max_length=200, validators=[validate_one_line])
    slug = models.SlugField(_("slug"), unique=True)
    description = models.TextField(_("description"), blank=True)
    home_city = models.CharField(
        _("home city"),
        max_length=100,
        blank=True,
        validators=[validate_one_line],
        help_text=_("Listed first on the series home, e.g. the city where it started."),
    )

    class Meta:
        verbose_name = _("event series")
        verbose_name_plural = _("event series")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Event(TranslatableModel):
    """One stop of the series. Its title and description are translatable
    (django-parler): a reader sees them in their language where staff wrote one,
    else in the site's (settings.PARLER_LANGUAGES: LANGUAGE_CODE), else in the
    event's own language, else in whichever it has."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    series = models.ForeignKey(
        EventSeries,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("series"),
    )
    # Missing in the reader's and the site's language, a text is read from the first
    # translation there is (any_language), and the event's own comes first.
    title = TranslatedField(any_language=True)
    description = TranslatedField(any_language=True)
    translations = TranslatedFields(
        title=models.CharField(
            _("title"), max_length=200, validators=[validate_one_line]
        ),
        description=models.TextField(_("description"), blank=True),
        meta={
            "ordering": [
                Case(
                    When(language_code=F("master__language"), then=Value(0)),
                    default=Value(1),
                ),
                "language_code",
            ]
        },
    )
    language = models.CharField(
        _("event's language"),
        max_length=10,
        choices=language_choices,
        default="en",
        help_text=_(
            "The language it is held in. Readers see the title and description "
            "in their language where it has a translation, else in English, else "
            "in this one."
        ),
    )
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    city = models.CharField(_("city"), max_length=100, validators=[validate_one_line])
    country = CountryField(_("country"))
    venue_name = models.CharField(
        _("venue"), max_length=200, validators=[validate_one_line]
    )
    venue_address = models.TextField(_("venue address"))
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        choices=timezone_choices,
        validators=[validate_timezone],
        help_text=_(
            "The venue's IANA time zone, e.g. America/Los_Angeles; pages show times in it."
        ),
    )
    starts_at = models.DateTimeField(_("starts at"), validators=[validate_event_moment])
    ends_at = models.DateTimeField(_("ends at"), validators=[validate_event_moment])
    capacity = models.PositiveIntegerField(_("capacity"))
    registration_opens_at = models.DateTimeField(
        _("registration opens"),
        null=True,
        blank=True,
        validators=[validate_event_moment],
    )
    registration_closes_at = models.DateTimeField(
        _("registration closes"),
        null=True,
        blank=True,
        validators=[validate_event_moment],
        help_text=_("Leave empty to close registration when the event starts."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    reminder_offsets = models.JSONField(
        _("reminders"),
        default=default_reminder_offsets,
        blank=True,
        validators=[validate_reminder_offsets],
        help_text=_(
            "Minutes before the start at which confirmed attendees are reminded."
        ),
    )
    published_at = models.DateTimeField(
        _("first published"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When it was first made public; a cancelled event that never "
            "was stays out of the feeds."
        ),
    )
    sequence = models.PositiveIntegerField(
        _("calendar revision"),
        default=0,
        editable=False,
        help_text=_("Raised at each change of time or venue; calendars follow it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="event_ends_after_start",
                violation_error_message=_("The event must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=0),
                name="event_capacity_gte_0",
                violation_error_message=_("Capacity cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(registration_opens_at__isnull=True)
                | Q(registration_closes_at__isnull=True)
                | Q(registration_opens_at__lt=F("registration_closes_at")),
                name="event_registration_opens_before_close",
                violation_error_message=_("Registration must open before it closes."),
            ),
            # The database refuses what validation would (a raw update, a bulk
            # insert): a year-1 start once made every admin list answer 500.
            models.CheckConstraint(
                condition=Q(
                    starts_at__gte=EARLIEST_EVENT_MOMENT,
                    starts_at__lt=LATEST_EVENT_MOMENT,
                    ends_at__gte=EARLIEST_EVENT_MOMENT,
                    ends_at__lt=LATEST_EVENT_MOMENT,
                ),
                name="event_dates_in_range",
                violation_error_message=_(
                    "The event's dates must lie between 2000 and 2099."
                ),
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self):
        return self.safe_translation_getter("title", any_language=True) or self.slug

    def get_absolute_url(self):
        return reverse("events:detail", kwargs={"slug": self.slug})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def map_url(self) -> str:
        query = f"{self.venue_name}, {self.venue_address}"
        return f"https://www.openstreetmap.org/search?query={quote_plus(query)}"


class RegistrationQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(status=Registration.Status.CANCELLED)

    def confirmed(self):
        return self.filter(status=Registration.Status.CONFIRMED)

    def waitlisted(self):
        return self.filter(status=Registration.Status.WAITLISTED)

    def in_waitlist_order(self):
        return self.waitlisted().order_by("waitlisted_at", "pk")


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITLISTED = "waitlisted", _("Waitlisted")
        CANCELLED = "cancelled", _("Cancelled")

    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="registrations",
        verbose_name=_("event"),
    )
    # Empty once the attendee's personal data is erased (their account deleted, or
    # the retention purge): the row stays, so counts and exports stay right.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("attendee"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    waitlisted_at = models.DateTimeField(
        _("joined the waitlist at"), null=True, blank=True
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The attendee's calendar entry for the event keeps one UID across registrations;
    # each registration starts its SEQUENCE past every earlier one's (see events.messages.calendar_sequence).
    calendar_offset = models.PositiveIntegerField(default=0, editable=False)
    ticket_code = models.CharField(
        _("ticket code"),
        max_length=TICKET_LENGTH,
        unique=True,
        default=new_ticket_code,
        editable=False,
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in by"),
    )

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at", "pk"]
        permissions = [("check_in", _("Can check in attendees at the door"))]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=~Q(status="cancelled"),
                name="registration_one_active_per_user",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="registration_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="waitlisted") | Q(waitlisted_at__isnull=False),
                name="registration_waitlisted_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="registration_cancelled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "waitlisted_at"]),
        ]

    def __str__(self):
        attendee = self.user or _("anonymous")
        return f"{attendee} → {self.event} ({self.get_status_display()})"
