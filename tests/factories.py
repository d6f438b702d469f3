from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from events.models import Event, EventSeries, Registration


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"attendee{n}@example.com")
    name = factory.Sequence(lambda n: f"Attendee {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        """A user whose email allauth considers verified (pass verified=False to skip)."""
        user.save()
        if create and extracted is not False:
            EmailAddress.objects.create(
                user=user, email=user.email, verified=True, primary=True
            )


class EventSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventSeries
        django_get_or_create = ("slug",)

    name = "Open Models Developer Tour"
    slug = "open-models-tour"
    home_city = "San Francisco"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    series = factory.SubFactory(EventSeriesFactory)
    title = factory.Sequence(lambda n: f"Tour stop {n}")
    slug = factory.Sequence(lambda n: f"tour-stop-{n}")
    description = "Talks and demos."
    city = "San Francisco"
    country = "US"
    venue_name = "Moscone Center West"
    venue_address = "800 Howard St, San Francisco, CA 94103"
    timezone = "America/Los_Angeles"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda event: event.starts_at + timedelta(hours=3))
    capacity = 10
    status = Event.Status.PUBLISHED
    # As publishing records it (services.publish_event): a published or cancelled
    # event made here was public once. A draft cancelled unannounced: cancel a draft.
    published_at = factory.LazyAttribute(
        lambda event: None if event.status == Event.Status.DRAFT else timezone.now()
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Writes the title and description in the event's own language, as staff
        do, whatever language the test runs in."""
        texts = {name: kwargs.pop(name) for name in ("title", "description")}
        event = model_class(*args, **kwargs)
        event.set_current_language(event.language)
        for name, value in texts.items():
            setattr(event, name, value)
        event.save()
        return event


class RegistrationFactory(factory.django.DjangoModelFactory):
    """A confirmed registration made two days ago (for reminder tests, which need
    times the register service would not accept)."""

    class Meta:
        model = Registration

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory(UserFactory)
    status = Registration.Status.CONFIRMED
    confirmed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
