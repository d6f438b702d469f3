"""Pages run a fixed number of queries, whatever the number of events or registrations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events import selectors, services
from events.models import Registration
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_events(count, *, registrations_each=2):
    events = []
    for i in range(count):
        event = EventFactory(
            capacity=1, city=["San Francisco", "Tokyo", "Paris"][i % 3], country="US"
        )
        for _ in range(registrations_each):
            services.register(event=event, user=UserFactory())
        events.append(event)
    return events


@pytest.mark.parametrize("size", [2, 12])
def test_home_queries_do_not_grow_with_events(client, django_assert_num_queries, size):
    make_events(size)
    # events with counts, their titles (translations, prefetched)
    with django_assert_num_queries(2):
        client.get("/")


@pytest.mark.parametrize("waiting", [1, 15])
def test_event_page_queries_do_not_grow_with_registrations(
    client, django_assert_num_queries, waiting
):
    user = UserFactory()
    event = EventFactory(capacity=1)
    for _ in range(waiting):
        services.register(event=event, user=UserFactory())
    services.register(event=event, user=user)
    client.force_login(user)
    # session, user, event with counts, its titles, my registration with its position
    with django_assert_num_queries(5):
        client.get(event.get_absolute_url())


@pytest.mark.parametrize("size", [2, 12])
def test_my_registrations_queries_do_not_grow(client, django_assert_num_queries, size):
    user = UserFactory()
    for event in make_events(size, registrations_each=1):
        services.register(event=event, user=user)
    client.force_login(user)
    # session, user, registrations with events and positions, the events' titles,
    # and the check-in permission (the user's and their groups' permissions: a
    # volunteer's page links the doors)
    with django_assert_num_queries(6):
        client.get("/me/")


def test_waitlist_position_counts_only_people_ahead_in_waitlist_order():
    event = EventFactory(capacity=0)
    first, second, third = (
        services.register(event=event, user=UserFactory()) for _ in "abc"
    )
    # second joined the waitlist before first
    Registration.objects.filter(pk=second.pk).update(
        waitlisted_at=first.waitlisted_at - timedelta(seconds=1)
    )
    positions = {
        r.pk: r.waitlist_position
        for r in selectors.with_waitlist_position(
            Registration.objects.filter(event=event)
        )
    }
    assert positions == {second.pk: 1, first.pk: 2, third.pk: 3}


def test_seat_counts_are_annotated_in_one_query(django_assert_num_queries):
    event = EventFactory(capacity=3)
    for _ in range(5):
        services.register(event=event, user=UserFactory())
    with django_assert_num_queries(1):
        annotated = selectors.with_seat_counts(
            type(event).objects.filter(pk=event.pk)
        ).get()
    assert (
        annotated.confirmed_count,
        annotated.waitlisted_count,
        annotated.seats_left,
    ) == (
        3,
        2,
        0,
    )


def test_upcoming_events_include_one_in_progress_and_not_one_that_ended():
    now = timezone.now()
    running = EventFactory(
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    EventFactory(starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1))
    assert list(selectors.upcoming_events()) == [running]
