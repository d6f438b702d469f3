from decimal import Decimal, DecimalException

from django import forms
from django.utils.translation import gettext_lazy as _


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
