from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils import timezone

from events import dashboard

register = template.Library()

CHART_DAYS = 30


@register.simple_tag(takes_context=True)
def staff_dashboard(context) -> dict | None:
    """The admin index dashboard's data, or None for a user who may not view events.

    Two queries, however many events there are. The chart counts days in the
    admin's zone, settings.TIME_ZONE.
    """
    if not context["request"].user.has_perm("events.view_event"):
        return None
    now = timezone.now()
    points = dashboard.signups_per_day(
        now=now, days=CHART_DAYS, zone=ZoneInfo(settings.TIME_ZONE)
    )
    return {
        "upcoming": dashboard.upcoming(now=now),
        "chart": dashboard.bar_chart(points),
        "days": CHART_DAYS,
        "zone": settings.TIME_ZONE,
    }
