"""Reads for pages and the admin: each returns in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from events.models import Event, Registration
from events.rules import checkin_margins, visible_to

Status = Registration.Status


def with_seat_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    """Annotates confirmed_count, waitlisted_count and seats_left in the same query."""
    return events.annotate(
        confirmed_count=Count(
            "registrations", filter=Q(registrations__status=Status.CONFIRMED)
        ),
        waitlisted_count=Count(
            "registrations", filter=Q(registrations__status=Status.WAITLISTED)
        ),
    ).annotate(seats_left=Greatest(F("capacity") - F("confirmed_count"), Value(0)))


def with_admin_counts(events: QuerySet[Event]) -> QuerySet[Event]:
    """with_seat_counts, plus checked_in_count (confirmed and checked in): the
    admin's columns and the door's counter, in one query."""
    return with_seat_counts(events).annotate(
        checked_in_count=Count(
            "registrations",
            filter=Q(
                registrations__status=Status.CONFIRMED,
                registrations__checked_in_at__isnull=False,
            ),
        )
    )


def with_waitlist_position(
    registrations: QuerySet[Registration],
) -> QuerySet[Registration]:
    """Annotates waitlist_position: 1 for the next to be promoted, None if not waiting."""
    ahead = (
        Registration.objects.filter(event=OuterRef("event"), status=Status.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=OuterRef("waitlisted_at"))
            | Q(waitlisted_at=OuterRef("waitlisted_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    people_ahead = Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0))
    return registrations.annotate(
        waitlist_position=Case(
            When(status=Status.WAITLISTED, then=people_ahead + 1),
            default=None,
            output_field=IntegerField(),
        )
    )


def registrations_for_admin(*, event: Event, limit: int) -> list[Registration]:
    """The event's registrations for its admin page: confirmed, then the waitlist in
    order, then cancelled; with waitlist positions and attendees, in one query."""
    order = Case(
        When(status=Status.CONFIRMED, then=Value(0)),
        When(status=Status.WAITLISTED, then=Value(1)),
        default=Value(2),
    )
    registrations = Registration.objects.filter(event=event).select_related("user")
    return list(
        with_waitlist_position(registrations).order_by(
            order, "waitlisted_at", "created_at", "pk"
        )[:limit]
    )


def upcoming_events(*, viewer: User | None = None, now=None) -> QuerySet[Event]:
    """Published events that have not ended, soonest first, with seat counts.

    With a signed-in viewer, each event also carries my_status: the status of the
    viewer's active registration, or None.
    """
    now = now or timezone.now()
    events = Event.objects.filter(status=Event.Status.PUBLISHED, ends_at__gt=now)
    events = with_seat_counts(
        events.select_related("series").prefetch_related("translations")
    ).order_by("starts_at", "pk")
    if viewer is not None and viewer.is_authenticated:
        mine = Registration.objects.active().filter(event=OuterRef("pk"), user=viewer)
        events = events.annotate(my_status=Subquery(mine.values("status")[:1]))
    return events


@dataclass
class CityGroup:
    city: str
    country: object
    events: list[Event] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slugify(self.city)


def upcoming_events_by_city(*, viewer: User | None = None, now=None) -> list[CityGroup]:
    """Upcoming events grouped by city: each series' home city first, then by date."""
    groups: dict[tuple[str, str], CityGroup] = {}
    home_cities = set()
    for event in upcoming_events(viewer=viewer, now=now):
        key = (event.city, event.country.code)
        groups.setdefault(key, CityGroup(city=event.city, country=event.country))
        groups[key].events.append(event)
        if event.series.home_city.casefold() == event.city.casefold():
            home_cities.add(key)
    # Dicts keep insertion order, which is each city's soonest event.
    return sorted(
        groups.values(), key=lambda g: (g.city, g.country.code) not in home_cities
    )


def event_for_page(*, slug: str, user: User) -> Event:
    """The event at /events/<slug>/, with seat counts, if the visitor may see it
    (rules.visible_to); Http404 if not."""
    events = with_seat_counts(
        Event.objects.filter(visible_to(user))
        .select_related("series")
        .prefetch_related("translations")
    )
    return get_object_or_404(events, slug=slug)


def registration_of(*, user: User, pk: int) -> Registration:
    """One of the user's own registrations; anybody else's is Http404."""
    return get_object_or_404(
        Registration.objects.select_related("event"), pk=pk, user=user
    )


def active_registration(*, event: Event, user: User) -> Registration | None:
    """The user's confirmed or waitlisted registration for event, with its position."""
    if not user.is_authenticated:
        return None
    registrations = Registration.objects.active().filter(event=event, user=user)
    return with_waitlist_position(registrations).first()


@dataclass
class MyRegistrations:
    upcoming: list[Registration]
    past: list[Registration]


def registrations_of(*, user: User, now=None) -> MyRegistrations:
    """The user's active registrations: upcoming soonest first, past latest first."""
    now = now or timezone.now()
    registrations = with_waitlist_position(
        Registration.objects.active()
        .filter(user=user)
        .select_related("event", "event__series")
        .prefetch_related("event__translations")
    ).order_by("event__starts_at", "pk")
    upcoming, past = [], []
    for registration in registrations:
        (upcoming if registration.event.ends_at > now else past).append(registration)
    past.reverse()
    return MyRegistrations(upcoming=upcoming, past=past)


def events_at_the_door(*, now) -> list[Event]:
    """Published events from those whose door is still open (rules.checkin_window)
    to those two weeks away: the doors a check-in volunteer may be about to open."""
    _opens_before, closes_after = checkin_margins()
    return list(
        Event.objects.filter(
            status=Event.Status.PUBLISHED,
            ends_at__gt=now - closes_after,
            starts_at__lt=now + timedelta(days=14),
        )
        .prefetch_related("translations")
        .order_by("starts_at", "pk")
    )


def registration_for_release(*, pk: int) -> Registration | None:
    """The registration a signed release link names, with its event and attendee."""
    return Registration.objects.select_related("event", "user").filter(pk=pk).first()
