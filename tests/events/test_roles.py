"""Who may do what: the permission matrix of the staff roles (events/0005_roles)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import EventFactory, UserFactory

pytestmark = pytest.mark.django_db

MANAGERS, VOLUNTEERS = "Event managers", "Check-in volunteers"


def member(group: str | None = None, **fields):
    user = UserFactory(**fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def event():
    return EventFactory()


def status(client, url: str, user=None) -> int:
    if user is not None:
        client.force_login(user)
    return client.get(url).status_code


def test_anonymous_is_sent_to_log_in(client, event):
    admin_page = client.get(reverse("admin:index"))
    assert admin_page.status_code == 302
    assert admin_page["Location"].startswith(reverse("admin:login"))
    door = client.get(reverse("checkin:door", args=[event.slug]))
    assert door.status_code == 302
    assert door["Location"].startswith(reverse("account_login"))


def test_attendee_gets_neither_the_admin_nor_the_door(client, event):
    attendee = member()
    assert status(client, reverse("admin:index"), attendee) == 302  # admin login
    assert status(client, reverse("checkin:door", args=[event.slug])) == 403


def test_volunteer_gets_the_door_only(client, event):
    volunteer = member(VOLUNTEERS)
    assert not volunteer.is_staff
    assert status(client, reverse("checkin:door", args=[event.slug]), volunteer) == 200
    assert status(client, reverse("admin:index")) == 302
    assert status(client, reverse("admin:events_event_changelist")) == 302


def test_manager_runs_events_but_administers_no_users(client, event):
    manager = member(MANAGERS, is_staff=True)
    client.force_login(manager)

    for allowed in (
        reverse("admin:events_event_changelist"),
        reverse("admin:events_event_change", args=[event.pk]),
        reverse("admin:events_registration_changelist"),
        reverse("admin:notifications_message_changelist"),
        reverse("admin:events_eventseries_changelist"),
        reverse("checkin:door", args=[event.slug]),
    ):
        assert client.get(allowed).status_code == 200, allowed
    for refused in (
        reverse("admin:accounts_user_changelist"),
        reverse("admin:auth_group_changelist"),
        reverse("admin:events_event_delete", args=[event.pk]),
    ):
        assert client.get(refused).status_code == 403, refused


def test_manager_sees_the_event_actions_volunteer_permission_included(client, event):
    client.force_login(member(MANAGERS, is_staff=True))

    page = client.get(reverse("admin:events_event_changelist"))
    actions = dict(page.context["action_form"].fields["action"].choices)
    assert {"publish", "cancel_events", "duplicate", "export_attendees"} <= set(actions)
    registrations = client.get(reverse("admin:events_registration_changelist"))
    actions = dict(registrations.context["action_form"].fields["action"].choices)
    assert {"check_in", "promote", "cancel_registrations"} <= set(actions)


def test_staff_without_a_role_sees_no_events(client, event):
    client.force_login(member(is_staff=True))
    assert status(client, reverse("admin:events_event_changelist")) == 403
    assert status(client, reverse("checkin:door", args=[event.slug])) == 403


def test_superuser_administers_users(admin_client):
    assert (
        admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    )
