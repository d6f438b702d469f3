from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils import dateformat, formats, translation
from django.utils.html import format_html
from django.utils.timezone import localtime

register = template.Library()

# Languages that write the day differently from "weekday, date" and join it to the
# time without a comma: Japanese reads 2027年2月6日(土) 18:00.
DAY_FORMATS = {"ja": ("Y年n月j日(D)", " ")}


def zone_abbreviation(value: datetime) -> str:
    """PST, CET, JST ... or UTC-03 where the zone has no abbreviation (São Paulo)."""
    name = value.tzname() or ""
    if name[:1] in "+-" and name:
        return f"UTC{name}"
    return name


def zone_if_clock_differs(zone: str, event) -> str:
    """zone, if a clock there reads differently from the venue's at the start; else ""."""
    if not zone:
        return ""
    theirs = event.starts_at.astimezone(ZoneInfo(zone)).utcoffset()
    return zone if theirs != event.starts_at.astimezone(event.zone).utcoffset() else ""


@register.simple_tag
def zoned(value: datetime | None, zone: str, style: str = "full", plain=False):
    """Renders an aware datetime in the IANA zone, with the zone's abbreviation.

    style "full": weekday, date, time; "date": weekday and date; "time": time only.
    plain: text alone, without the <time> element (plain-text emails).
    """
    if value is None:
        return ""
    local = localtime(value, ZoneInfo(zone))
    own, joint = DAY_FORMATS.get(translation.get_language() or "", (None, ", "))
    if own:
        day = dateformat.format(local, own)
    else:
        day = f"{formats.date_format(local, 'D')}, {formats.date_format(local, 'DATE_FORMAT')}"
    time = f"{formats.time_format(local, 'TIME_FORMAT')} {zone_abbreviation(local)}"
    text = {"full": f"{day}{joint}{time}", "date": day, "time": time}[style]
    if plain:
        return text
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), text)


@register.simple_tag
def event_end(event, plain=False):
    """The event's end in its zone: the time alone when it ends the day it starts."""
    zone = ZoneInfo(event.timezone)
    same_day = (
        localtime(event.starts_at, zone).date() == localtime(event.ends_at, zone).date()
    )
    return zoned(event.ends_at, event.timezone, "time" if same_day else "full", plain)
