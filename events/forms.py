from decimal import Decimal, DecimalException
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.admin import widgets
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.timezones import timezone_choices
from events.models import validate_event_moment


class ReminderOffsetsField(forms.CharField):
    """Reminder times as hours before the start, "24, 2"; stored as minutes."""

    default_error_messages = {
        "invalid": _(
            "Enter hours before the start, separated by commas, e.g. 24, 2 or 0.5."
        ),
        "range": _("Each reminder must be between 1 minute and 60 days before."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _(
                "Hours before the start at which confirmed attendees get a reminder, "
                "e.g. 24, 2. Leave empty for none."
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(
                f"{Decimal(minutes) / 60:f}".rstrip("0").rstrip(".")
                for minutes in sorted(value, reverse=True)
            )
        return value

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return []
        minutes = set()
        for part in text.replace(";", ",").split(","):
            try:
                hours = Decimal(part.strip().removesuffix("h"))
            except DecimalException:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from None
            if not hours.is_finite():
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                )
            try:
                value = int((hours * 60).to_integral_value())
            except DecimalException:
                raise forms.ValidationError(
                    self.error_messages["range"], code="range"
                ) from None
            if not 1 <= value <= 60 * 24 * 60:
                raise forms.ValidationError(self.error_messages["range"], code="range")
            minutes.add(value)
        return sorted(minutes, reverse=True)


class DuplicateEventForm(forms.Form):
    """Where and when the copy of an event takes place (times in its own zone)."""

    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_(
            "Leave empty to keep the original's, with the new city's name in place "
            "of the old one (in every language)."
        ),
    )
    city = forms.CharField(label=_("City"), max_length=100)
    country = CountryField().formfield(label=_("Country"))
    timezone = forms.ChoiceField(label=_("Time zone"), choices=())
    starts_at = forms.SplitDateTimeField(
        label=_("Starts at (local time in that zone)"),
        widget=widgets.AdminSplitDateTime,
        validators=[validate_event_moment],
    )
    venue_name = forms.CharField(label=_("Venue"), max_length=200)
    venue_address = forms.CharField(label=_("Venue address"), widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()

    def clean(self):
        cleaned = super().clean()
        zone, starts = cleaned.get("timezone"), cleaned.get("starts_at")
        if zone and starts:
            # The admin reads times in its own zone; the copy's are in the new city's.
            naive = timezone.make_naive(starts) if timezone.is_aware(starts) else starts
            cleaned["starts_at"] = naive.replace(tzinfo=ZoneInfo(zone))
        return cleaned


class EmailAttendeesForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=120,
        help_text=_("One line; it follows “[Turnout] <event title>:”."),
    )
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=5000,
        help_text=_("Plain text. The event's details and the attendee's links follow."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        if "\n" in subject or "\r" in subject:
            raise forms.ValidationError(_("The subject must be a single line."))
        return subject
