"""Reads for the staff dashboard on the admin index: plain data, one query each."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models.functions import TruncDate

from events.models import Event, Registration
from events.selectors import with_admin_counts


def fill_percent(confirmed: int, capacity: int) -> int:
    """Confirmed seats as a share of capacity, rounded down (100: every seat taken;
    more than 100 when staff lowered the capacity below the confirmed count)."""
    return 100 * confirmed // capacity if capacity else 0


@dataclass(frozen=True)
class EventFill:
    """An upcoming event and how full it is.

    fill_percent is confirmed / capacity, rounded down (so 100 means every seat is
    taken), and 0 for an event without seats; it may pass 100 when the capacity was
    lowered below the confirmed count.
    """

    event: Event
    confirmed: int
    capacity: int
    waitlisted: int
    checked_in: int
    fill_percent: int


def upcoming(*, now: datetime, limit: int = 10) -> list[EventFill]:
    """Published and draft events that have not ended at now, soonest first, at
    most limit of them, with their seat counts. Two queries: the events with their
    counts, and their titles."""
    events = Event.objects.filter(
        status__in=[Event.Status.PUBLISHED, Event.Status.DRAFT], ends_at__gt=now
    ).prefetch_related("translations")
    events = with_admin_counts(events).order_by("starts_at", "pk")[:limit]
    return [
        EventFill(
            event=event,
            confirmed=event.confirmed_count,
            capacity=event.capacity,
            waitlisted=event.waitlisted_count,
            checked_in=event.checked_in_count,
            fill_percent=fill_percent(event.confirmed_count, event.capacity),
        )
        for event in events
    ]


def signups_per_day(
    *, now: datetime, days: int = 30, zone: ZoneInfo
) -> list[tuple[date, int]]:
    """(day, registrations created that day) for the days calendar days up to and
    including now's day, oldest first, days in zone; days without any count 0.

    Every registration row counts, whatever its status now. One query.
    """
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    counts = dict(
        Registration.objects.filter(
            created_at__gte=datetime.combine(first, time.min, tzinfo=zone),
            created_at__lt=datetime.combine(
                today + timedelta(days=1), time.min, tzinfo=zone
            ),
        )
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return [
        (day, counts.get(day, 0))
        for day in (first + timedelta(days=i) for i in range(days))
    ]


@dataclass(frozen=True)
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    """Geometry for a small SVG bar chart, and the figures its text summary needs."""

    width: int
    height: int
    bars: list[Bar]
    total: int
    busiest: tuple[date, int] | None


def bar_chart(points: list[tuple[date, int]], *, width=300, height=60) -> BarChart:
    """Lays out one bar per (day, count) across width, the highest bar height tall.

    busiest is the earliest day with the highest count, or None when all are 0.
    """
    peak = max((count for _, count in points), default=0)
    slot = width / len(points) if points else width
    gap = 1 if slot >= 3 else 0
    bars = []
    for i, (day, count) in enumerate(points):
        bar_height = round(height * count / peak, 2) if peak else 0
        bars.append(
            Bar(
                day=day,
                count=count,
                x=round(i * slot, 2),
                y=round(height - bar_height, 2),
                width=round(slot - gap, 2),
                height=bar_height,
            )
        )
    busiest = next((p for p in points if p[1] == peak), None) if peak else None
    return BarChart(
        width=width,
        height=height,
        bars=bars,
        total=sum(count for _, count in points),
        busiest=busiest,
    )
