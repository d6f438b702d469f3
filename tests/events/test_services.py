from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from events import exceptions, services
from events.messages import Kind
from events.models import Event, Registration
from notifications.models import Message
from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = Registration.Status


def statuses(event):
    """(user email, status) in waitlist-then-creation order, for exact comparisons."""
    return [
        (r.user.email, r.status)
        for r in Registration.objects.filter(event=event).order_by("created_at", "pk")
    ]


def register_many(event, count):
    return [services.register(event=event, user=UserFactory()) for _ in range(count)]


def test_register_with_seats_left_confirms():
    event = EventFactory(capacity=2)
    registration = services.register(event=event, user=UserFactory())
    assert registration.status == Status.CONFIRMED
    assert registration.confirmed_at is not None
    assert registration.waitlisted_at is None


def test_register_when_full_waitlists():
    event = EventFactory(capacity=1)
    first, second = register_many(event, 2)
    assert (first.status, second.status) == (Status.CONFIRMED, Status.WAITLISTED)
    assert second.waitlisted_at is not None
    assert second.confirmed_at is None


def test_register_with_capacity_zero_waitlists_everyone():
    event = EventFactory(capacity=0)
    assert [r.status for r in register_many(event, 3)] == [Status.WAITLISTED] * 3


def test_register_twice_returns_the_same_registration():
    event = EventFactory(capacity=1)
    user = UserFactory()
    first = services.register(event=event, user=user)
    again = services.register(event=event, user=user)
    assert again.pk == first.pk
    assert Registration.objects.filter(event=event, user=user).count() == 1


def test_register_twice_on_waitlist_keeps_the_place():
    event = EventFactory(capacity=0)
    user = UserFactory()
    first = services.register(event=event, user=user)
    assert services.register(event=event, user=user).pk == first.pk


def test_register_after_cancelling_makes_a_new_registration():
    event = EventFactory(capacity=5)
    user = UserFactory()
    first = services.register(event=event, user=user)
    services.cancel_registration(registration=first)
    second = services.register(event=event, user=user)
    assert second.pk != first.pk
    assert second.status == Status.CONFIRMED


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"status": Event.Status.DRAFT}, exceptions.EventNotPublished),
        ({"status": Event.Status.CANCELLED}, exceptions.EventCancelled),
        ({"starts_at_delta": timedelta(minutes=-1)}, exceptions.EventStarted),
        ({"opens_delta": timedelta(hours=1)}, exceptions.RegistrationNotOpenYet),
        ({"closes_delta": timedelta(minutes=-1)}, exceptions.RegistrationClosed),
    ],
)
def test_register_outside_the_rules_is_refused(changes, error):
    now = timezone.now()
    fields = {"status": changes.get("status", Event.Status.PUBLISHED)}
    if "starts_at_delta" in changes:
        fields["starts_at"] = now + changes["starts_at_delta"]
    if "opens_delta" in changes:
        fields["registration_opens_at"] = now + changes["opens_delta"]
    if "closes_delta" in changes:
        fields["registration_closes_at"] = now + changes["closes_delta"]
    event = EventFactory(**fields)
    with pytest.raises(error) as raised:
        services.register(event=event, user=UserFactory())
    assert isinstance(raised.value, exceptions.RegistrationError)
    assert str(raised.value.message)
    assert Registration.objects.count() == 0


def test_register_inside_the_window_is_accepted():
    now = timezone.now()
    event = EventFactory(
        registration_opens_at=now - timedelta(hours=1),
        registration_closes_at=now + timedelta(hours=1),
    )
    assert services.register(event=event, user=UserFactory()).status == Status.CONFIRMED


def test_register_without_a_closing_time_stays_open_until_the_start():
    event = EventFactory(starts_at=timezone.now() + timedelta(seconds=30))
    assert services.register(event=event, user=UserFactory()).status == Status.CONFIRMED
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now())
    with pytest.raises(exceptions.EventStarted):
        services.register(event=Event.objects.get(pk=event.pk), user=UserFactory())


def test_register_with_free_seats_and_a_queue_serves_the_queue_first():
    # A cancelled event keeps its queue while seats free up; re-published, the people
    # who waited get those seats before anyone new.
    event = EventFactory(capacity=1)
    first, waiting = register_many(event, 2)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    services.cancel_registration(registration=first)
    assert Registration.objects.get(pk=waiting.pk).status == Status.WAITLISTED
    Event.objects.filter(pk=event.pk).update(status=Event.Status.PUBLISHED)
    newcomer = services.register(
        event=Event.objects.get(pk=event.pk), user=UserFactory()
    )
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED
    assert newcomer.status == Status.WAITLISTED


def test_register_rechecks_the_event_under_the_lock():
    # The caller's instance says published; the database says cancelled.
    event = EventFactory()
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    with pytest.raises(exceptions.EventCancelled):
        services.register(event=event, user=UserFactory())


def test_cancel_confirmed_promotes_the_longest_waiting():
    event = EventFactory(capacity=1)
    confirmed, first_waiting, second_waiting = register_many(event, 3)
    services.cancel_registration(registration=confirmed)
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == Status.CONFIRMED
    assert first_waiting.confirmed_at is not None
    assert second_waiting.status == Status.WAITLISTED


def test_cancel_promotes_in_waitlist_order_not_creation_order():
    event = EventFactory(capacity=1)
    confirmed, early, late = register_many(event, 3)
    # `late` joined the waitlist earlier than `early` (e.g. demoted data imported).
    Registration.objects.filter(pk=late.pk).update(
        waitlisted_at=early.waitlisted_at - timedelta(minutes=5)
    )
    services.cancel_registration(registration=confirmed)
    assert Registration.objects.get(pk=late.pk).status == Status.CONFIRMED
    assert Registration.objects.get(pk=early.pk).status == Status.WAITLISTED


def test_cancel_waitlisted_promotes_nobody():
    event = EventFactory(capacity=1)
    confirmed, waiting, behind = register_many(event, 3)
    services.cancel_registration(registration=waiting)
    assert statuses(event) == [
        (confirmed.user.email, Status.CONFIRMED),
        (waiting.user.email, Status.CANCELLED),
        (behind.user.email, Status.WAITLISTED),
    ]


def test_cancel_twice_is_harmless():
    event = EventFactory(capacity=1)
    confirmed, waiting, behind = register_many(event, 3)
    services.cancel_registration(registration=confirmed)
    again = services.cancel_registration(registration=confirmed)
    assert again.status == Status.CANCELLED
    assert statuses(event) == [
        (confirmed.user.email, Status.CANCELLED),
        (waiting.user.email, Status.CONFIRMED),
        (behind.user.email, Status.WAITLISTED),
    ]


def test_cancel_after_the_start_is_refused():
    event = EventFactory(capacity=1)
    confirmed, waiting = register_many(event, 2)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - timedelta(minutes=5)
    )
    with pytest.raises(exceptions.RegistrationLocked):
        services.cancel_registration(registration=confirmed)
    assert statuses(event) == [
        (confirmed.user.email, Status.CONFIRMED),
        (waiting.user.email, Status.WAITLISTED),
    ]


def test_cancel_in_a_cancelled_event_promotes_nobody():
    event = EventFactory(capacity=1)
    confirmed, waiting = register_many(event, 2)
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    services.cancel_registration(registration=confirmed)
    assert Registration.objects.get(pk=waiting.pk).status == Status.WAITLISTED


def test_set_capacity_up_promotes_in_waitlist_order():
    event = EventFactory(capacity=1)
    registrations = register_many(event, 4)
    services.set_capacity(event=event, capacity=3)
    assert [Registration.objects.get(pk=r.pk).status for r in registrations] == [
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.WAITLISTED,
    ]
    assert Event.objects.get(pk=event.pk).capacity == 3
    assert event.capacity == 3


def test_set_capacity_down_to_confirmed_count_is_allowed():
    event = EventFactory(capacity=5)
    register_many(event, 2)
    services.set_capacity(event=event, capacity=2)
    assert Event.objects.get(pk=event.pk).capacity == 2


def test_set_capacity_below_confirmed_is_refused_and_changes_nothing():
    event = EventFactory(capacity=5)
    register_many(event, 3)
    with pytest.raises(exceptions.CapacityError) as raised:
        services.set_capacity(event=event, capacity=2)
    assert str(raised.value.message) == (
        "3 people are already confirmed, so capacity cannot go below 3. "
        "Cancel registrations first."
    )
    assert Event.objects.get(pk=event.pk).capacity == 5


def test_set_capacity_negative_is_refused():
    event = EventFactory(capacity=5)
    with pytest.raises(exceptions.CapacityError):
        services.set_capacity(event=event, capacity=-1)
    assert Event.objects.get(pk=event.pk).capacity == 5


def test_database_refuses_two_active_registrations_for_one_user():
    event = EventFactory()
    user = UserFactory()
    services.register(event=event, user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(
            event=event,
            user=user,
            status=Status.WAITLISTED,
            waitlisted_at=timezone.now(),
        )


def test_database_refuses_an_event_that_ends_before_it_starts():
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(starts_at=start, ends_at=start - timedelta(hours=1))


def test_database_refuses_negative_capacity():
    event = EventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(capacity=-1)


def change_log(event) -> list[str]:
    from django.contrib.admin.models import LogEntry

    return [
        entry.get_change_message()
        for entry in LogEntry.objects.filter(object_id=str(event.pk)).order_by("pk")
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "800 Howard St\r\nSan Francisco",
        "800 Howard St\rSan Francisco",
        "  800 Howard St \nSan Francisco\n",
    ],
)
def test_update_event_details_ignores_changes_nobody_would_notice(typed):
    event = EventFactory(venue_address="800 Howard St\nSan Francisco")
    registration = services.register(event=event, user=UserFactory())

    services.update_event_details(event=event, venue_address=typed)

    event.refresh_from_db()
    assert (event.sequence, event.venue_address) == (
        0,
        "800 Howard St\nSan Francisco",
    )
    assert list(
        Message.objects.filter(registration=registration).values_list("kind", flat=True)
    ) == [Kind.CONFIRMED]


def test_update_event_details_stores_a_new_address_with_plain_line_breaks():
    event = EventFactory(venue_address="800 Howard St\nSan Francisco")

    services.update_event_details(event=event, venue_address="1 Main St\r\nOakland")

    event.refresh_from_db()
    assert (event.sequence, event.venue_address) == (1, "1 Main St\nOakland")


def test_change_event_sends_each_field_through_its_service_and_records_it():
    staff = UserFactory(is_staff=True)
    event = EventFactory(capacity=1)
    confirmed, waiting = (
        services.register(event=event, user=UserFactory()) for _ in "ab"
    )
    event.title = "Renamed"

    change = services.change_event(
        event=event,
        changes={
            "title": "Renamed",
            "venue_address": "1 Main St\r\nOakland",
            "capacity": 2,
            "status": Event.Status.CANCELLED,
        },
        actor=staff,
    )

    event.refresh_from_db()
    assert (event.title, event.venue_address, event.capacity, event.status) == (
        "Renamed",
        "1 Main St\nOakland",
        2,
        Event.Status.CANCELLED,
    )
    assert (change.attendees_told, change.cancelled) == (True, True)
    assert Registration.objects.get(pk=waiting.pk).status == Status.CONFIRMED
    assert list(
        Message.objects.filter(registration=confirmed)
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == [
        Kind.CONFIRMED,
        Kind.EVENT_CHANGED,
        Kind.EVENT_CANCELLED,
    ]
    assert change_log(event) == [
        "Changed Title, Venue address, Capacity and Status.",
        "Cancelled.",
    ]


def test_change_event_with_nothing_noticeable_changes_and_records_nothing():
    event = EventFactory(venue_address="800 Howard St\nSan Francisco")

    change = services.change_event(
        event=event,
        changes={"venue_address": "800 Howard St\r\nSan Francisco"},
        actor=UserFactory(is_staff=True),
    )

    event.refresh_from_db()
    assert (change.attendees_told, event.sequence, change_log(event)) == (
        False,
        0,
        [],
    )


def test_change_event_refused_changes_nothing():
    event = EventFactory(capacity=5, title="Before")
    for _ in range(3):
        services.register(event=event, user=UserFactory())
    event.title = "After"

    with pytest.raises(exceptions.CapacityError):
        services.change_event(
            event=event,
            changes={"title": "After", "venue_name": "Elsewhere", "capacity": 2},
            actor=None,
        )

    event = Event.objects.get(pk=event.pk)
    assert (event.title, event.venue_name, event.capacity, event.sequence) == (
        "Before",
        "Moscone Center West",
        5,
        0,
    )
    assert not Message.objects.filter(kind=Kind.EVENT_CHANGED).exists()


def test_resend_confirmation_is_the_outboxs_resend_of_the_latest_one():
    """One way to resend: a copy of the confirmation the log holds (resend_of),
    and a new confirmation only when the log no longer has one."""
    registration = services.register(event=EventFactory(), user=UserFactory())
    (original,) = Message.objects.filter(registration=registration)

    copy = services.resend_confirmation(registration=registration)

    assert (copy.kind, copy.resend_of_id, copy.dedupe_key) == (
        Kind.CONFIRMED,
        original.pk,
        None,
    )
    Message.objects.filter(registration=registration).delete()  # pruned
    fresh = services.resend_confirmation(registration=registration)
    assert fresh.resend_of_id is None
    assert fresh.dedupe_key.startswith(f"reg:{registration.pk}:confirmed:resend-")
