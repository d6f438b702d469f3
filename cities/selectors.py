"""Reads for the cities: which cities the series goes to, their events, their feeds."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify
from django_countries.fields import Country

from accounts.models import User
from events.models import Event
from events.rules import visible_to
from events.selectors import upcoming_events


@dataclass(frozen=True)
class City:
    """A city the series goes to, named by its events; slug keys /cities/<slug>/."""

    slug: str
    name: str
    country: object  # django_countries Country
    names: tuple[str, ...] = ()  # every spelling its events use


def cities() -> list[City]:
    """Every city with a public event (rules.visible_to), past or upcoming, by name.
    One query."""
    rows = (
        Event.objects.filter(visible_to(None))
        .order_by("city")
        .values_list("city", "country")
        .distinct()
    )
    found: dict[str, City] = {}
    for name, country in rows:
        slug = slugify(name)
        if not slug:
            continue
        known = found.get(slug)
        names = (*known.names, name) if known else (name,)
        found[slug] = City(
            slug=slug,
            name=known.name if known else name,
            country=known.country if known else Country(code=country),
            names=names,
        )
    return sorted(found.values(), key=lambda city: city.name.casefold())


def city(*, slug: str) -> City:
    """The city at /cities/<slug>/; Http404 when no public event names it."""
    for known in cities():
        if known.slug == slug:
            return known
    raise Http404("No such city")


def events_in_city(*, city: City, viewer: User | None = None, now=None):
    """The city's upcoming published events, with seat counts (as upcoming_events)."""
    return upcoming_events(viewer=viewer, now=now).filter(city__in=city.names)


def feed_events(*, city: City | None = None, now=None) -> QuerySet[Event]:
    """Events for an iCal feed: the public ones (rules.visible_to), cancelled ones
    included so subscribed calendars drop them, from 30 days ago on, with their
    titles."""
    now = now or timezone.now()
    events = Event.objects.filter(
        visible_to(None), ends_at__gt=now - timedelta(days=30)
    )
    if city is not None:
        events = events.filter(city__in=city.names)
    return events.prefetch_related("translations").order_by("starts_at", "pk")
