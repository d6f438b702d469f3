"""Following a city: subscribing, unsubscribing, and telling followers of a new event."""

from django.dispatch import receiver
from django.utils.text import slugify

from accounts.models import User
from cities import messages
from cities.models import CitySubscription
from events import signals
from events.models import Event
from notifications import outbox


def follow_city(*, user: User, city) -> CitySubscription:
    """Subscribes user to news of events in city (a selectors.City). Idempotent."""
    subscription, _created = CitySubscription.objects.get_or_create(
        user=user, city_slug=city.slug, defaults={"city_name": city.name}
    )
    return subscription


def unfollow_city(*, user: User, city_slug: str) -> bool:
    """Ends the subscription; True if there was one. Idempotent."""
    deleted, _ = CitySubscription.objects.filter(
        user=user, city_slug=city_slug
    ).delete()
    return bool(deleted)


@receiver(signals.event_published, dispatch_uid="cities.tell_followers")
def tell_followers(*, event: Event, **_signal) -> None:
    """Each follower of the event's city hears of it once, when it is first published
    (publishing it again after a draft spell sends nothing new). Those already
    registered are not told."""
    followers = (
        CitySubscription.objects.filter(city_slug=slugify(event.city))
        .exclude(user__registrations__event=event)
        .select_related("user")
    )
    outbox.queue_ignoring_duplicates(
        [
            messages.news(subscription, event)
            for subscription in followers
            if subscription.user.is_active
        ]
    )
