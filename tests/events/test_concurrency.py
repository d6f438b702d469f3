"""Races against real PostgreSQL: many threads, each with its own connection.

Every race runs behind a write gate: a separate connection holds the registrations
table (or the one the race writes) in EXCLUSIVE mode (reads pass, inserts and
updates wait) until every racing
thread is blocked on a lock. So each thread has read whatever it reads before anyone
writes: the worst interleaving, on purpose. With the event row lock the services
serialise anyway; without it (the control) every reader sees the same empty room and
the event overbooks, every time.
"""

import queue
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.db.models.query import QuerySet
from django.urls import reverse

from checkin import services as checkin_services
from events import exceptions, services
from events.messages import Kind
from events.models import Event, Registration
from notifications.models import Message
from tests.events.test_admin import change_form_data
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.support.door import at_the_door, make_volunteer
from tests.support.people import reauthenticated

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Status = Registration.Status
GATE_TIMEOUT = 60
# PostgreSQL's default max_connections is 100: this many racers leaves room for the
# test's own connections and anything else on the server.
MAX_THREADS = 80


def _raw_connection():
    params = connection.settings_dict
    return psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname=params["NAME"],
        autocommit=True,
    )


def _free_connections() -> int:
    with _raw_connection() as conn:
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])
        reserved = int(
            conn.execute("SHOW superuser_reserved_connections").fetchone()[0]
        )
        used = conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0]
    return limit - reserved - used - 5


def _lock_waiters(monitor) -> int:
    return monitor.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()[0]


def _wait_for_lock_waiters(monitor, expected: int, finished=lambda: 0) -> None:
    """Waits until `expected` threads are blocked on a lock or have finished.

    (A call that never writes a registration, like set_capacity, can finish first.)
    """
    # Its own autocommit connection: inside a transaction pg_stat_activity is a
    # snapshot taken once and never refreshed.
    deadline = time.monotonic() + GATE_TIMEOUT
    while (waiting := _lock_waiters(monitor) + finished()) < expected:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"only {waiting} of {expected} threads reached the gate"
            )
        time.sleep(0.01)


@contextmanager
def write_gate(expected_waiters: int, table: str = "events_registration"):
    """Blocks writes to table; `release()` waits for the waiters, then opens."""
    with _raw_connection() as gate, _raw_connection() as monitor:
        gate.execute("BEGIN")
        gate.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

        def release(finished):
            try:
                _wait_for_lock_waiters(monitor, expected_waiters, finished)
            finally:
                gate.execute("COMMIT")

        yield release


def race(calls, *, all_at_once=False, table="events_registration"):
    """Runs every call from its own thread pool, all released together behind the gate
    on writes to table.

    Returns (results, errors) in call order. PostgreSQL's connection limit bounds how
    many run at the very same moment, the rest follow as threads free up; with
    all_at_once (the controls, whose outcome depends on it) too few free connections
    fail the test instead.
    """
    free = _free_connections()
    needed = len(calls) if all_at_once else 2
    if free < needed or (all_at_once and len(calls) > MAX_THREADS):
        pytest.fail(
            f"this race needs {needed} connections at once; PostgreSQL has {free} free"
        )
    threads = min(len(calls), free, MAX_THREADS)
    work = queue.Queue()
    for index, call in enumerate(calls):
        work.put((index, call))
    results, errors = [None] * len(calls), [None] * len(calls)
    finished = []
    barrier = threading.Barrier(threads + 1, timeout=GATE_TIMEOUT)

    def worker():
        try:
            barrier.wait()
            while True:
                try:
                    index, call = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = call()
                except Exception as error:  # noqa: BLE001 -- reported to the test
                    errors[index] = error
                finished.append(index)
        finally:
            connection.close()

    with write_gate(expected_waiters=threads, table=table) as release:
        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        barrier.wait()
        try:
            release(finished=lambda: len(finished))
        finally:
            # Even when the gate fails, no racer may outlive the test: the database
            # flush that follows would deadlock against it.
            for thread in pool:
                thread.join(timeout=GATE_TIMEOUT)
    assert not any(thread.is_alive() for thread in pool), "a racing thread hung"
    return results, errors


def counts(event):
    registrations = Registration.objects.filter(event=event)
    return (
        registrations.filter(status=Status.CONFIRMED).count(),
        registrations.filter(status=Status.WAITLISTED).count(),
    )


@pytest.fixture(autouse=True)
def patient_locks(settings):
    """The races hold their threads at the gate on purpose, up to GATE_TIMEOUT; on a
    busy machine that can outlast the lock's timeout, which the tests at the end of
    this file set (and test) themselves."""
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
    with _raw_connection() as blocker:
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
        with _raw_connection() as monitor:
            _wait_for_lock_waiters(monitor, 1)
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


# The lock gives up: busy, never a hung worker ---------------------------------------
@contextmanager
def event_row_held(event):
    """Another connection holds the event's row lock until the block ends, as a
    slow admin save does for its whole request."""
    with _raw_connection() as blocker:
        blocker.execute("BEGIN")
        blocker.execute(
            "SELECT id FROM events_event WHERE id = %s FOR UPDATE", [event.pk]
        )
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")


def _in_a_thread(call):
    """Starts call in a thread (and connection) of its own; returns (thread, outcome)."""
    outcome = {}

    def attempt():
        try:
            outcome["result"] = call()
        except Exception as error:  # noqa: BLE001 -- reported to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    return thread, outcome


def _register_in_a_thread(event, user):
    return _in_a_thread(lambda: services.register(event=event, user=user))


def test_register_while_the_event_is_held_gives_up_busy(settings):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    with event_row_held(event):
        thread, outcome = _register_in_a_thread(event, UserFactory())
        thread.join(timeout=10)  # fifty times the timeout: promptly, on a busy box
        gave_up = not thread.is_alive()
    thread.join(timeout=GATE_TIMEOUT)

    assert gave_up
    assert isinstance(outcome.get("error"), exceptions.EventBusy)
    assert Registration.objects.filter(event=event).count() == 0


def test_register_while_the_event_is_held_waits_without_the_timeout(settings):
    """The control: with the timeout switched off the same registration is still
    waiting after a second (five times the timeout above), and goes through once
    the lock is let go, so the test above can fail."""
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0
    event = EventFactory(capacity=5)
    with event_row_held(event):
        thread, outcome = _register_in_a_thread(event, UserFactory())
        with _raw_connection() as monitor:
            _wait_for_lock_waiters(monitor, 1)
        thread.join(timeout=1)
        still_waiting = thread.is_alive()
    thread.join(timeout=GATE_TIMEOUT)

    assert still_waiting
    assert outcome["result"].status == Status.CONFIRMED


def test_the_lock_timeout_covers_only_the_wait_for_the_event(settings):
    """Once the event is locked, the transaction's own lock_timeout is back to what
    it was: a caller's longer transaction (the admin's request) is not cut short."""
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '7s'")
        services.set_capacity(event=event, capacity=6)
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            (after,) = cursor.fetchone()

    assert after == "7s"


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


BUSY = str(exceptions.EventBusy.default_message)


def test_registering_while_the_event_is_held_says_busy_and_try_again(client, settings):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    client.force_login(UserFactory())
    with event_row_held(event):
        response = client.post(reverse("events:register", args=[event.slug]))

    assert (response.status_code, response["Location"]) == (
        302,
        event.get_absolute_url(),
    )
    assert _messages(response) == [BUSY]
    assert Registration.objects.filter(event=event).count() == 0


def test_cancelling_while_the_event_is_held_says_busy_and_changes_nothing(
    client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    registration = services.register(event=event, user=UserFactory())
    client.force_login(registration.user)
    with event_row_held(event):
        response = client.post(reverse("events:cancel", args=[registration.pk]))

    assert (response.status_code, response["Location"]) == (
        302,
        event.get_absolute_url(),
    )
    assert _messages(response) == [BUSY]
    registration.refresh_from_db()
    assert registration.status == Status.CONFIRMED


def test_admin_saving_a_held_event_says_busy_and_saves_nothing(admin_client, settings):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5, title="Before")
    url = reverse("admin:events_event_change", args=[event.pk])
    with event_row_held(event):
        thread, outcome = _in_a_thread(
            lambda: admin_client.post(
                url, change_form_data(event, title="After", capacity=9)
            )
        )
        thread.join(timeout=10)
        answered = not thread.is_alive()
    thread.join(timeout=GATE_TIMEOUT)

    assert answered
    response = outcome["result"]
    assert (response.status_code, response["Location"]) == (302, url)
    assert _messages(response) == [BUSY]
    event.refresh_from_db()
    assert (event.title, event.capacity) == ("Before", 5)


def test_deleting_an_account_while_its_event_is_held_says_busy_and_deletes_nothing(
    client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    registration = services.register(event=event, user=UserFactory())
    reauthenticated(client, registration.user)
    with event_row_held(event):
        response = client.post(reverse("accounts:delete_account"))

    assert (response.status_code, response["Location"]) == (
        302,
        reverse("accounts:delete_account"),
    )
    assert _messages(response) == [BUSY]
    registration.refresh_from_db()
    assert (registration.user_id, registration.status) == (
        registration.user.pk,
        Status.CONFIRMED,
    )


def test_admin_cancelling_a_held_event_says_busy_and_cancels_nothing(
    admin_client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    with event_row_held(event):
        response = admin_client.post(
            reverse("admin:events_event_changelist"),
            {
                "action": "cancel_events",
                "_selected_action": [event.pk],
                "confirm": "yes",
            },
        )

    assert response.status_code == 302
    assert _messages(response) == [
        f"{event}: {BUSY}",
        "0 events cancelled; attendees are being told.",
    ]
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED


def test_admin_emailing_a_held_event_says_busy_and_keeps_the_form(
    admin_client, settings
):
    settings.EVENT_LOCK_TIMEOUT_SECONDS = 0.2
    event = EventFactory(capacity=5)
    services.register(event=event, user=UserFactory())
    Message.objects.all().delete()
    fields = {"subject": "Doors at 5:30", "body": "Hi", "key": "k-busy"}
    with event_row_held(event):
        response = admin_client.post(
            reverse("admin:events_event_changelist"),
            {
                "action": "email_attendees",
                "_selected_action": [event.pk],
                "confirm": "yes",
                **fields,
            },
        )

    assert response.status_code == 200  # the form again, as filled in, to send again
    assert response.context["form"]["key"].value() == "k-busy"
    assert _messages(response) == [BUSY]
    assert not Message.objects.exists()
