"""IANA time zones: the one list the whole project validates against."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_choices() -> list[tuple[str, str]]:
    """Every IANA zone name, sorted, as form choices (the name is also the label)."""
    return [(name, name.replace("_", " ")) for name in sorted(_zone_names())]


def is_timezone(value: str) -> bool:
    """Whether value is an IANA zone name such as Europe/Paris."""
    return value in _zone_names()


def validate_timezone(value: str) -> None:
    """Raises ValidationError unless value is an IANA zone name such as Europe/Paris."""
    if not is_timezone(value):
        raise ValidationError(
            _("“%(value)s” is not a time zone. Use an IANA name such as Europe/Paris."),
            code="invalid_timezone",
            params={"value": value},
        )
