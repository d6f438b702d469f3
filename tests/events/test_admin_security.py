"""The admin as an attacker meets it: a manager, an attendee's name, crafted queries.

Each test here reproduces a finding of the issue-9 attack on Turnout and failed before
its fix.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts import messages as account_messages
from events import services
from events.models import Event
from notifications.models import Message
from tests.factories import EventFactory, UserFactory
from tests.support.admin import change_form_data, events_url, registrations_url

pytestmark = pytest.mark.django_db

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def manager_client(client):
    manager = UserFactory(is_staff=True)
    manager.groups.add(Group.objects.get(name="Event managers"))
    client.force_login(manager)
    return client


def messages_url():
    return reverse("admin:notifications_message_changelist")


# Stored XSS from an attendee's name into staff pages -----------------------------------
def test_broadcast_preview_escapes_the_attendees_name(manager_client):
    event = EventFactory()
    services.register(event=event, user=UserFactory(name=XSS))
    form = manager_client.post(
        events_url(), {"action": "email_attendees", "_selected_action": [event.pk]}
    )
    key = form.context["form"]["key"].value()
    preview = manager_client.post(
        events_url(),
        {
            "action": "email_attendees",
            "_selected_action": [event.pk],
            "subject": "Doors",
            "body": "Hello",
            "key": key,
            "confirm": "no",
        },
    )
    page = preview.content.decode()
    assert preview.status_code == 200
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_message_page_keeps_its_html_inside_the_sandboxed_frame(admin_client):
    event = EventFactory()
    services.register(event=event, user=UserFactory(name=XSS))
    message = Message.objects.get()
    message.body_html = f'<p>Hi {XSS}</p><p title="x">"quoted"</p>'
    message.save()
    page = admin_client.get(
        reverse("admin:notifications_message_change", args=[message.pk])
    ).content.decode()
    # The whole email sits in srcdoc, escaped: nothing breaks out of the attribute.
    assert XSS not in page
    assert '"quoted"' not in page
    assert "srcdoc=" in page


def test_email_previews_escape_plain_text_parts(admin_client):
    page = admin_client.get(
        reverse("admin:notifications_message_preview")
    ).content.decode()
    assert "<pre" in page
    assert "<img" not in page.split("<pre", 1)[1]


# Reading reset keys through crafted lookups -------------------------------------------
def queued_reset_email():
    """An account email carrying a secret, queued while the worker is down."""
    superuser = UserFactory(is_staff=True, is_superuser=True, email="root@example.com")

    class Rendered:
        subject = "[Turnout] Password Reset"
        body = "Reset it: http://testserver/accounts/password/reset/key/9-d3adb33f/"
        content_subtype = "plain"
        alternatives = []

    return account_messages.queue_account_email(Rendered(), to_email=superuser.email)


@pytest.mark.parametrize(
    "lookup",
    [
        "body_text__regex=password/reset/key/9-d",
        "body_text__contains=reset/key/9-d",
        "body_text__icontains=KEY/9-D",
        "body_text__startswith=Reset",
        "body_text__exact=x",
        "body_text__gte=R",
        "body_text__lt=S",
        "body_html__isnull=False",
        "context__has_key=x",
        "dedupe_key__startswith=reg",
        "user__password__startswith=md5",
        "registration__ticket_code__startswith=A",
    ],
)
def test_message_list_refuses_undeclared_lookups(manager_client, lookup):
    queued_reset_email()
    response = manager_client.get(f"{messages_url()}?kind=account&{lookup}")
    # Django answers an undeclared lookup with 400 (DisallowedModelAdminLookup).
    assert response.status_code == 400


def test_lookup_oracle_cannot_tell_a_right_guess_from_a_wrong_one(manager_client):
    queued_reset_email()
    right = manager_client.get(f"{messages_url()}?body_text__contains=9-d3")
    wrong = manager_client.get(f"{messages_url()}?body_text__contains=9-zz")
    assert (right.status_code, wrong.status_code) == (400, 400)


def test_message_list_still_takes_its_declared_filters(manager_client):
    event = EventFactory()
    services.register(event=event, user=UserFactory())
    response = manager_client.get(
        f"{messages_url()}?status__exact=queued&kind__exact=confirmed"
        f"&event__id__exact={event.pk}&created_at__year={timezone.now().year}&q=x"
    )
    assert response.status_code == 200


def test_account_email_bodies_are_readable_by_nobody(admin_client):
    message = queued_reset_email()
    page = admin_client.get(
        reverse("admin:notifications_message_change", args=[message.pk])
    )
    assert page.status_code == 200
    assert "reset/key" not in page.content.decode()
    listing = admin_client.get(f"{messages_url()}?q=reset/key")
    assert listing.status_code == 200
    assert message.to_email not in listing.content.decode()


def test_account_email_body_is_erased_once_sent(mailbox):
    message = queued_reset_email()
    assert len(mailbox()) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert (message.body_text, message.body_html) == ("", "")


@pytest.mark.parametrize(
    ("url", "lookup"),
    [
        ("admin:accounts_user_changelist", "password__startswith=md5"),
        ("admin:account_emailaddress_changelist", "user__password__startswith=md5"),
        ("admin:mfa_authenticator_changelist", "data__icontains=secret"),
        ("admin:auth_group_changelist", "user__password__startswith=md5"),
    ],
)
def test_other_apps_lists_refuse_lookups_on_secrets(admin_client, url, lookup):
    response = admin_client.get(f"{reverse(url)}?{lookup}")
    assert response.status_code == 400


def test_authenticator_secret_is_shown_to_nobody(admin_client):
    from allauth.mfa.models import Authenticator

    authenticator = Authenticator.objects.create(
        user=UserFactory(), type=Authenticator.Type.TOTP, data={"secret": "S3CR3T"}
    )
    page = admin_client.get(
        reverse("admin:mfa_authenticator_change", args=[authenticator.pk])
    )
    assert page.status_code == 200
    assert "S3CR3T" not in page.content.decode()


# Bad input in admin lists: a clear 4xx, never a 500 ------------------------------------
BAD_FILTERS = {
    "admin:notifications_message_changelist": [
        "event__id__exact=abc",
        "event__id__exact=%00",
        "status__exact=%00",
        "kind__exact=a%00b",
        "q=%00",
        "created_at__year=99999999999999999999999",
        "created_at__year=2026&created_at__month=13",
        "created_at__year=2026&created_at__month=2&created_at__day=31",
    ],
    "admin:events_registration_changelist": [
        "event__id__exact=abc",
        "checked_in=%00",
        "status__exact=%00",
        "q=a%00",
        "event__id__exact=99999999999999999999999",
    ],
    "admin:events_event_changelist": [
        "starts_at__year=99999999999999999999999",
        "starts_at__year=-1",
        "city=%00",
        "country=%00",
        "series__id__exact=abc",
        "q=%00",
    ],
}


@pytest.mark.parametrize(
    ("url", "query"),
    [(url, query) for url, queries in BAD_FILTERS.items() for query in queries],
)
def test_lists_answer_bad_filters_without_a_server_error(manager_client, url, query):
    EventFactory()
    response = manager_client.get(f"{reverse(url)}?{query}")
    assert response.status_code in (200, 302, 400)


@pytest.mark.parametrize("selected", ["abc", "1.5", "%00", "99999999999999999999999"])
def test_actions_with_a_malformed_selection_are_refused(manager_client, selected):
    event = EventFactory(status=Event.Status.DRAFT)
    response = manager_client.post(
        events_url(), {"action": "publish", "_selected_action": [event.pk, selected]}
    )
    assert response.status_code == 400
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT  # nothing was done


# Dates and one-line fields that no path may store -------------------------------------
def duplicate(client, event, **fields):
    data = {
        "action": "duplicate",
        "_selected_action": [event.pk],
        "confirm": "yes",
        "city": "Tokyo",
        "country": "JP",
        "timezone": "Asia/Tokyo",
        "starts_at_0": "2027-05-01",
        "starts_at_1": "18:00:00",
        "venue_name": "Hall",
        "venue_address": "1-1 Shibuya",
        **fields,
    }
    return client.post(events_url(), data)


@pytest.mark.parametrize(
    ("day", "time"), [("0001-01-01", "00:00:00"), ("9999-12-31", "23:00:00")]
)
def test_duplicate_refuses_a_date_out_of_range(manager_client, day, time):
    event = EventFactory()
    response = duplicate(manager_client, event, starts_at_0=day, starts_at_1=time)
    assert response.status_code == 200
    assert "between the years 2000 and 2099" in response.content.decode()
    assert Event.objects.count() == 1
    for url in (events_url(), registrations_url(), messages_url()):
        assert manager_client.get(url).status_code == 200


def test_event_change_refuses_a_year_past_2099_and_the_feeds_stay_up(
    admin_client, client
):

    event = EventFactory()
    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(
            event,
            starts_at_0="9999-12-31",
            starts_at_1="10:00:00",
            ends_at_0="9999-12-31",
            ends_at_1="12:00:00",
        ),
    )
    assert response.status_code == 200  # the form again, with the error
    event.refresh_from_db()
    assert event.starts_at.year < 2100
    assert client.get(reverse("cities:series_feed")).status_code == 200


def test_database_refuses_dates_out_of_range_on_any_path():
    from django.db import IntegrityError, transaction

    event = EventFactory()
    far = event.starts_at.replace(year=2150)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(
            starts_at=far, ends_at=far + timedelta(hours=1)
        )


@pytest.mark.parametrize(
    "title", ["Line one\r\nBcc: x@example.com", "Tab\there", "\x00"]
)
def test_event_title_refuses_control_characters(admin_client, title):

    event = EventFactory(title="Clean")
    response = admin_client.post(
        reverse("admin:events_event_change", args=[event.pk]),
        change_form_data(event, title=title),
    )
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.title == "Clean"


def test_display_name_refuses_line_breaks(client):
    user = UserFactory(name="Ada")
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"),
        {"name": "Ada\r\nLovelace", "timezone": "", "language": "en"},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.name == "Ada"


# Registrations whose person was erased (account deleted, retention purge) -------------
def test_erased_registrations_show_as_anonymous_and_are_told_nothing(admin_client):
    event = EventFactory()
    kept = services.register(event=event, user=UserFactory())
    erased = services.register(event=event, user=UserFactory())
    Message.objects.all().delete()
    type(erased).objects.filter(pk=erased.pk).update(user=None)

    listing = admin_client.get(f"{registrations_url()}?event__id__exact={event.pk}")
    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk]))
    assert (listing.status_code, page.status_code) == (200, 200)
    assert "anonymous" in page.content.decode()

    services.cancel_event(event=event)
    assert list(Message.objects.values_list("registration", flat=True)) == [kept.pk]


@pytest.mark.parametrize("view", ["change", "delete"])
def test_an_empty_to_field_is_a_bad_request(admin_client, view):
    event = EventFactory()
    url = reverse(f"admin:events_event_{view}", args=[event.pk])
    assert admin_client.get(f"{url}?_to_field=").status_code == 400


@pytest.mark.parametrize("code", ["%00", "a%00b", "xx"])
def test_deleting_a_translation_in_no_language_of_ours_is_not_found(admin_client, code):
    event = EventFactory()
    url = reverse("admin:events_event_change", args=[event.pk])
    assert admin_client.get(f"{url}delete-translation/{code}/").status_code == 404
