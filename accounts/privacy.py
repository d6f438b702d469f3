"""Everything Turnout holds about a person, in one place: "Download my data" exports
it, "Delete my account" erases it (events.retention erases the same, per event, a
set time after each event ended).

Each piece of personal data, and where it goes:

=====================  =========================  ====================================
Data                   Export (export)            Delete (delete_account)
=====================  =========================  ====================================
User row (profile)     "profile"                  deleted
allauth EmailAddress   "email_addresses"          deleted
MFA authenticators     "two_factor" (kind, dates; deleted
                       never the secrets)
Sessions (database)    "sessions" (expiry)        deleted, on every device
Registrations          "registrations"            active ones before the start:
                                                  cancelled (the waitlist moves);
                                                  all: kept without a person
City follows           "city_follows"             deleted
Emails (outbox)        "emails" (subject, kind,   recipient and content erased;
                       status, times; no bodies)  queued ones skipped
Admin history entries  -- (staff's record)        no longer name the person
=====================  =========================  ====================================

tests/accounts/test_privacy.py checks every relation to the user model has a row
here, so a new one cannot be forgotten.

This module reads and writes both apps' data (accounts and events): it is the one
place that knows all of a person's data.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cities.models import CitySubscription
from events import exceptions, retention, services
from events.models import Registration
from notifications.models import Message

FORMAT = "turnout-personal-data/1"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


# Reading -----------------------------------------------------------------------------
def messages_to(user: User) -> QuerySet[Message]:
    """The emails sent (or queued) to the person: those of their account, and those
    to one of their addresses with no account (e.g. a reset asked before signing up).
    Never another account's, even at an address that is theirs now."""
    addresses = {user.email.lower()} | {
        address.lower()
        for address in EmailAddress.objects.filter(user=user).values_list(
            "email", flat=True
        )
    }
    to_their_address = Q()
    for address in sorted(addresses):
        to_their_address |= Q(to_email__iexact=address)
    return Message.objects.filter(
        Q(user=user) | (Q(user__isnull=True) & to_their_address)
    )


def session_expiries(user: User) -> dict[str, datetime]:
    """The person's signed-in sessions that have not expired: key -> expiry.

    Only sessions kept in the database can be found (the default engine); with
    signed-cookie or cache sessions there is nothing to list and each ends at its
    expiry. Reads every live session, as a session does not index its user.
    """
    store = retention.session_store()
    if not hasattr(store, "get_model_class"):
        return {}
    found = {}
    rows = (
        store.get_model_class()
        .objects.filter(expire_date__gt=timezone.now())
        .values_list("session_key", "session_data", "expire_date")
    )
    for key, data, expires in rows.iterator(chunk_size=2000):
        if store().decode(data).get(SESSION_KEY) == str(user.pk):
            found[key] = expires
    return found


def export(*, user: User, now: datetime | None = None) -> dict:
    """All the personal data Turnout holds about user, as JSON-ready data.

    Times are ISO 8601 in UTC; each event's start is also given in its own zone.
    No secrets: no password hash, no two-factor keys or recovery codes, no email
    bodies (account emails hold reset links and sign-in codes).
    """
    now = now or timezone.now()
    registrations = (
        Registration.objects.filter(user=user)
        .select_related("event")
        .prefetch_related("event__translations")
        .order_by("event__starts_at", "pk")
    )
    return {
        "format": FORMAT,
        "exported_at": _iso(now),
        "profile": {
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "timezone": user.timezone,
            "email_reminders": user.email_reminders,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        },
        "email_addresses": [
            {"email": email, "verified": verified, "primary": primary}
            for email, verified, primary in EmailAddress.objects.filter(user=user)
            .order_by("-primary", "email")
            .values_list("email", "verified", "primary")
        ],
        "two_factor": [
            {"type": kind, "added": _iso(added), "last_used": _iso(used)}
            for kind, added, used in Authenticator.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("type", "created_at", "last_used_at")
        ],
        "sessions": [
            {"expires": _iso(expires)}
            for expires in sorted(session_expiries(user).values())
        ],
        "registrations": [_registration(r) for r in registrations],
        "city_follows": [
            {"city": name, "city_slug": slug, "followed_at": _iso(at)}
            for name, slug, at in CitySubscription.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("city_name", "city_slug", "created_at")
        ],
        "emails": [
            {
                "subject": subject,
                "kind": kind,
                "status": status,
                "to": to,
                "created_at": _iso(created),
                "sent_at": _iso(sent),
            }
            for subject, kind, status, to, created, sent in messages_to(user)
            .order_by("created_at", "pk")
            .values_list(
                "subject", "kind", "status", "to_email", "created_at", "sent_at"
            )
        ],
    }


def _registration(registration: Registration) -> dict:
    event = registration.event
    return {
        "event": {
            "title": event.safe_translation_getter("title", any_language=True),
            "slug": event.slug,
            "city": event.city,
            "country": str(event.country),
            "timezone": event.timezone,
            "starts_at": _iso(event.starts_at),
            "starts_at_local": event.starts_at.astimezone(event.zone).isoformat(),
            "ends_at": _iso(event.ends_at),
            "ends_at_local": event.ends_at.astimezone(event.zone).isoformat(),
        },
        "status": registration.status,
        "ticket_code": registration.ticket_code,
        "registered_at": _iso(registration.created_at),
        "confirmed_at": _iso(registration.confirmed_at),
        "waitlisted_at": _iso(registration.waitlisted_at),
        "cancelled_at": _iso(registration.cancelled_at),
        "checked_in_at": _iso(registration.checked_in_at),
    }


@dataclass(frozen=True)
class DeletionPlan:
    """What deleting the account will do to the person's active registrations."""

    cancelled: list[Registration]  # not started: cancelled, the seat passed on
    kept: list[Registration]  # started: stay on record, without the person


def deletion_plan(*, user: User, now: datetime | None = None) -> DeletionPlan:
    """The person's active registrations, split as delete_account will treat them."""
    now = now or timezone.now()
    active = (
        Registration.objects.active()
        .filter(user=user)
        .select_related("event")
        .prefetch_related("event__translations")
        .order_by("event__starts_at", "pk")
    )
    cancelled, kept = [], []
    for registration in active:
        (kept if registration.event.starts_at <= now else cancelled).append(
            registration
        )
    return DeletionPlan(cancelled=cancelled, kept=kept)


# Erasing -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DeletedAccount:
    cancelled: int  # registrations cancelled (their seats went to the waitlist)
    anonymised: int  # registrations kept, without the person
    messages: int  # emails emptied of their recipient and content
    sessions: int  # sessions ended


def delete_account(*, user: User) -> DeletedAccount:
    """Deletes user's account and erases their personal data, in one transaction.

    Active registrations of events not started are cancelled through
    events.services.cancel_registration: the waitlist moves and whoever gets the
    seat is told. Registrations of events that started stay as records without a
    person, like every cancelled one (events.retention.anonymise_registrations).
    Their emails lose recipient and content, and queued ones are skipped
    (events.retention.erase_messages). City follows, email addresses, two-factor
    authenticators and sessions on every device are deleted, the admin history no
    longer names them, and the user row is deleted.

    The user's row is locked first, so a registration made at the same moment
    either comes before (and is cancelled) or fails. Idempotent: an account that is
    already gone is left alone.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().filter(pk=user.pk).first()
        if locked is None:
            return DeletedAccount(cancelled=0, anonymised=0, messages=0, sessions=0)
        cancelled = 0
        # Events locked in one order, as every other transaction locks one at most.
        for registration in (
            Registration.objects.active().filter(user=locked).order_by("event_id")
        ):
            try:
                services.cancel_registration(registration=registration)
            except exceptions.RegistrationLocked:
                continue  # the event started: what happened stays on record
            cancelled += 1
        anonymised = retention.anonymise_registrations(
            Registration.objects.filter(user=locked)
        )
        messages = retention.erase_messages(messages_to(locked))
        CitySubscription.objects.filter(user=locked).delete()
        Authenticator.objects.filter(user=locked).delete()
        EmailAddress.objects.filter(user=locked).delete()
        sessions = session_expiries(locked)
        store = retention.session_store()
        for key in sessions:
            store(session_key=key).delete()
        pk = locked.pk
        locked.delete()
        retention.rename_history(User, {pk: f"deleted account #{pk}"})
    return DeletedAccount(
        cancelled=cancelled,
        anonymised=anonymised,
        messages=messages,
        sessions=len(sessions),
    )
