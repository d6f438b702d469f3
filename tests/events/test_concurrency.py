"""Races against real PostgreSQL: many threads, each with its own connection.

Every race runs behind a write gate: a separate connection holds the registrations
table (or the one the race writes) in EXCLUSIVE mode (reads pass, inserts and
updates wait) until every racing
thread is blocked on a lock. So each thread has read whatever it reads before anyone
writes: the worst interleaving, on purpose. With the event row lock the services
serialise anyway; without it (the control) every reader sees the same empty room and
the event overbooks, every time.
"""

import threading
from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.models.query import QuerySet

from checkin import services as checkin_services
from events import exceptions, services
from events.messages import Kind
from events.models import Event, Registration
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.support.door import at_the_door, make_volunteer
from tests.support.races import (
    GATE_TIMEOUT,
    race,
    raw_connection,
    wait_for_lock_waiters,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Status = Registration.Status


def counts(event):
    registrations = Registration.objects.filter(event=event)
    return (
        registrations.filter(status=Status.CONFIRMED).count(),
        registrations.filter(status=Status.WAITLISTED).count(),
    )


@pytest.fixture(autouse=True)
def patient_locks(settings):
    """The races hold their threads at the gate on purpose, up to GATE_TIMEOUT; on a
    busy machine that can outlast the lock's timeout, which test_lock_timeout.py
    sets (and tests) itself."""
    settings.EVENT_LOCK_TIMEOUT_SECONDS = GATE_TIMEOUT


@pytest.fixture
def no_row_locks(monkeypatch):
    """The control: SELECT ... FOR UPDATE becomes a plain SELECT, in Django itself."""
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, **kwargs: self)


def _registrations_for(event, count):
    users = [UserFactory() for _ in range(count)]
    return [
        lambda user=user: services.register(event=event, user=user) for user in users
    ]


@pytest.mark.parametrize("n", [10, 50, 200])
@pytest.mark.parametrize(
    "capacity_of",
    [lambda n: 0, lambda n: 1, lambda n: 5, lambda n: n - 1],
    ids=["K=0", "K=1", "K=5", "K=N-1"],
)
def test_register_simultaneously_never_exceeds_capacity(n, capacity_of):
    capacity = capacity_of(n)
    event = EventFactory(capacity=capacity)
    results, errors = race(_registrations_for(event, n))
    assert errors == [None] * n
    assert counts(event) == (min(n, capacity), n - min(n, capacity))
    assert sorted(r.status for r in results) == sorted(
        [Status.CONFIRMED] * min(n, capacity)
        + [Status.WAITLISTED] * (n - min(n, capacity))
    )


def test_register_simultaneously_without_the_lock_overbooks(no_row_locks):
    """The control: the same race with the row lock bypassed puts 50 people in 5 seats."""
    event = EventFactory(capacity=5)
    results, errors = race(_registrations_for(event, 50), all_at_once=True)
    assert errors == [None] * 50
    assert counts(event) == (50, 0)


def test_register_ten_times_at_once_by_one_user_makes_one_registration():
    event = EventFactory(capacity=5)
    user = UserFactory()
    results, errors = race([lambda: services.register(event=event, user=user)] * 10)
    assert errors == [None] * 10
    assert len({r.pk for r in results}) == 1
    assert Registration.objects.filter(event=event).count() == 1


def test_register_ten_times_at_once_without_the_lock_fails(no_row_locks):
    """Control: without the lock only the database's unique rule stops the duplicates."""
    event = EventFactory(capacity=5)
    user = UserFactory()
    calls = [lambda: services.register(event=event, user=user)] * 10
    results, errors = race(calls, all_at_once=True)
    assert sum(error is not None for error in errors) == 9
    assert Registration.objects.filter(event=event).count() == 1


def _setup_full_event(capacity, waiting):
    event = EventFactory(capacity=capacity)
    confirmed = [
        services.register(event=event, user=UserFactory()) for _ in range(capacity)
    ]
    waitlist = [
        services.register(event=event, user=UserFactory()) for _ in range(waiting)
    ]
    return event, confirmed, waitlist


def _cancel_while_others_register(
    *, capacity=10, cancelling=6, waiting=15, newcomers=30, all_at_once=False
):
    """Races `cancelling` cancellations against `newcomers` registrations.

    Returns (errors, confirmed pks, the pks that should be confirmed, waitlist pks in
    order, the pks that should lead the waitlist).
    """
    event, confirmed, waitlist = _setup_full_event(capacity, waiting=waiting)
    calls = [
        lambda r=r: services.cancel_registration(registration=r)
        for r in confirmed[:cancelling]
    ] + _registrations_for(event, newcomers)
    results, errors = race(calls, all_at_once=all_at_once)
    expected_confirmed = {r.pk for r in confirmed[cancelling:] + waitlist[:cancelling]}
    actual_confirmed = set(
        Registration.objects.filter(event=event)
        .confirmed()
        .values_list("pk", flat=True)
    )
    still_waiting = list(
        Registration.objects.filter(event=event)
        .in_waitlist_order()
        .values_list("pk", flat=True)
    )
    return (
        errors,
        actual_confirmed,
        expected_confirmed,
        still_waiting,
        [r.pk for r in waitlist[cancelling:]],
    )


def test_cancellations_racing_registrations_promote_in_waitlist_order():
    errors, confirmed, expected, still_waiting, expected_head = (
        _cancel_while_others_register()
    )
    assert errors == [None] * 36
    assert confirmed == expected
    # Everyone who came late queues behind everyone already waiting.
    assert still_waiting[: len(expected_head)] == expected_head
    assert len(still_waiting) == len(expected_head) + 30


def test_cancellations_racing_without_the_lock_leave_seats_empty(no_row_locks):
    """Control: unlocked, each cancellation sees only its own and all promote the same
    person. Either seats stay empty while people wait, or the outbox's unique key on
    that person's "promoted" email makes the duplicate promotions fail outright."""
    errors, confirmed, expected, still_waiting, expected_head = (
        _cancel_while_others_register(all_at_once=True)
    )
    failed = [e for e in errors if e is not None]
    assert len(confirmed) < len(expected) or failed
    assert all("events_message_dedupe_key" in str(e) for e in failed)


def test_capacity_raised_while_people_register_never_exceeds_new_capacity():
    event, confirmed, waitlist = _setup_full_event(capacity=5, waiting=10)
    calls = [lambda: services.set_capacity(event=event, capacity=12)]
    calls += _registrations_for(event, 20)
    results, errors = race(calls)
    assert errors == [None] * len(calls)
    assert counts(event) == (12, 5 + 10 + 20 - 12)
    promoted = Registration.objects.filter(pk__in=[r.pk for r in waitlist[:7]])
    assert sorted(promoted.values_list("status", flat=True)) == [Status.CONFIRMED] * 7


def _lower_capacity_while_others_register(*, all_at_once=False):
    """Capacity 10 with 4 confirmed is lowered to 5 while 10 more people register."""
    event = EventFactory(capacity=10)
    for _ in range(4):
        services.register(event=event, user=UserFactory())
    calls = [lambda: services.set_capacity(event=event, capacity=5)]
    calls += _registrations_for(event, 10)
    results, errors = race(calls, all_at_once=all_at_once)
    event.refresh_from_db()
    return event, errors


def test_capacity_lowered_while_people_register_never_overbooks():
    event, errors = _lower_capacity_while_others_register()
    # Either set_capacity won the lock early enough (5 seats, then the queue) or it
    # came too late and was refused (10 seats, all taken): never more than capacity.
    assert (event.capacity, counts(event)) in {(5, (5, 9)), (10, (10, 4))}
    assert errors[1:] == [None] * 10
    assert isinstance(errors[0], exceptions.CapacityError) == (event.capacity == 10)


def test_capacity_lowered_without_the_lock_overbooks(no_row_locks):
    """Control: unlocked, everyone who read the old capacity takes a seat."""
    event, errors = _lower_capacity_while_others_register(all_at_once=True)
    assert errors == [None] * 11
    assert (event.capacity, counts(event)) == (5, (14, 0))


def test_registration_closing_under_the_lock_is_respected():
    """A registration that waited for the lock re-checks the event it then sees."""
    event = EventFactory(capacity=50)
    user = UserFactory()
    with raw_connection() as blocker:
        blocker.execute("BEGIN")
        blocker.execute(
            "SELECT id FROM events_event WHERE id = %s FOR UPDATE", [event.pk]
        )
        outcome = {}

        def attempt():
            try:
                outcome["result"] = services.register(event=event, user=user)
            except Exception as error:  # noqa: BLE001
                outcome["error"] = error
            finally:
                connection.close()

        thread = threading.Thread(target=attempt)
        thread.start()
        with raw_connection() as monitor:
            wait_for_lock_waiters(monitor, 1)
        blocker.execute(
            "UPDATE events_event SET status = 'cancelled' WHERE id = %s", [event.pk]
        )
        blocker.execute("COMMIT")
        thread.join(timeout=GATE_TIMEOUT)
    assert isinstance(outcome.get("error"), exceptions.EventCancelled)
    assert Registration.objects.filter(event=event).count() == 0


# Two doors, one ticket ---------------------------------------------------------------
def _two_doors_at_once():
    """Two volunteers scan the same ticket at once. Both scans read the ticket before
    either writes: the write gate of test_concurrency forces that interleaving."""
    registration = RegistrationFactory(event=at_the_door())
    doors = [make_volunteer(), make_volunteer()]
    calls = [
        lambda by=by: checkin_services.check_in(
            event=registration.event, code=registration.ticket_code, by=by
        )
        for by in doors
    ]
    results, errors = race(calls, all_at_once=True)
    assert errors == [None, None]
    registration.refresh_from_db()
    return registration, results


@pytest.fixture
def no_check_in_guard(monkeypatch):
    """The control: the UPDATE's "not checked in yet" condition is dropped, in
    Django's QuerySet.filter, so the update no longer decides who was first."""
    original = QuerySet.filter

    def filter_without_guard(self, *args, **kwargs):
        kwargs.pop("checked_in_at__isnull", None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "filter", filter_without_guard)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_check_in_same_code_at_two_doors_at_once_records_one_first():
    registration, results = _two_doors_at_once()

    assert sorted(result.first for result in results) == [False, True]
    (winner,) = [result for result in results if result.first]
    assert registration.checked_in_by == winner.registration.checked_in_by
    assert [r.registration.checked_in_at for r in results] == [
        registration.checked_in_at
    ] * 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_check_in_at_two_doors_without_the_guard_records_two_firsts(
    no_check_in_guard,
):
    """The control: the same race without the conditional UPDATE lets both scans
    think they were first, so the test above can fail."""
    registration, results = _two_doors_at_once()

    assert [result.first for result in results] == [True, True]


# Staff at the same moment ------------------------------------------------------------
def test_two_staff_duplicating_at_once_get_two_drafts_with_their_own_slugs():
    event = EventFactory(title="Turnout San Francisco", city="San Francisco")
    inserts = []

    def count_inserts(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "events_event" ('):
            inserts.append(sql)
        return execute(sql, params, many, context)

    def duplicate(by):
        with connection.execute_wrapper(count_inserts):
            return services.duplicate_event(
                event=event,
                city="Tokyo",
                country="JP",
                timezone_name="Asia/Tokyo",
                starts_at=datetime(2099, 4, 1, 9, 0, tzinfo=UTC),
                venue_name="Shibuya Hall",
                venue_address="1-1 Shibuya, Tokyo",
                by=by,
            )

    staff = [UserFactory(is_staff=True) for _ in "ab"]
    results, errors = race(
        [lambda by=by: duplicate(by) for by in staff],
        all_at_once=True,
        table="events_event",
    )

    assert errors == [None, None]
    assert sorted(copy.slug for copy in results) == [
        "turnout-tokyo-2099-04-01",
        "turnout-tokyo-2099-04-01-2",
    ]
    assert Event.objects.filter(status=Event.Status.DRAFT).count() == 2
    # Both found the slug free before either wrote it: one insert collided (the
    # unique index decided) and was made again under the next free slug.
    assert len(inserts) == 3


def _announce_twice_at_once():
    """Staff's "send" reaches the server twice at once (a double click); both
    requests read the outbox before either writes (the gate on events_message)."""
    event = EventFactory(capacity=5)
    for _ in range(3):
        services.register(event=event, user=UserFactory())
    staff = UserFactory(is_staff=True)

    def announce():
        return services.email_attendees(
            event=event, subject="Doors at 5:30", body="Hi", key="k-once", by=staff
        )

    results, errors = race(
        [announce, announce], all_at_once=True, table="events_message"
    )
    assert errors == [None, None]
    records = LogEntry.objects.filter(object_id=str(event.pk)).values_list(
        "change_message", flat=True
    )
    queued = Message.objects.filter(kind=Kind.ANNOUNCEMENT).count()
    return sorted(results), list(records), queued


def test_email_attendees_sent_twice_at_once_counts_and_records_once():
    results, records, queued = _announce_twice_at_once()

    assert (results, records, queued) == (
        [0, 3],
        ["Emailed 3 confirmed attendees: Doors at 5:30"],
        3,
    )


def test_email_attendees_twice_at_once_without_the_lock_counts_twice(no_row_locks):
    """Control: unlocked, both requests count an empty outbox, so both report and
    record the three emails (the unique key still stops a second copy)."""
    results, records, queued = _announce_twice_at_once()

    assert (results, len(records), queued) == ([3, 3], 2, 3)
