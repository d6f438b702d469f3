"""Validators shared by every app's models (accounts is the lowest app)."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_one_line(value: str) -> None:
    """Refuses control characters (line breaks, tabs, NUL...) in a one-line field.

    A title or name ends up in email headers, CSV cells and calendar files, where a
    line break starts a new header or line.
    """
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        raise ValidationError(
            _("Use a single line of text, without line breaks or control characters."),
            code="control_characters",
        )
