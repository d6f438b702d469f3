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

The apps built on accounts hold the rest of a person's data, and tell this module
how to export and erase it (register): events their registrations, cities their
follows. The outbox's emails are read and erased here, through notifications.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.sessions import session_store
from config.audit import rename_history
from notifications.models import Message
from notifications.upkeep import erase_messages

FORMAT = "turnout-personal-data/1"


class Busy(Exception):
    """A part of the person's data is in use right now (an event's seats being
    decided): nothing was deleted, and trying again in a moment will do."""


@dataclass(frozen=True)
class Holder:
    """An app's part of a person's data.

    export(user, now) -> {section: JSON-ready data}, added to "Download my data".
    plan(user, now) -> {name: value}, what delete_account will do (for its page).
    erase(user) -> {count name: n}, inside delete_account's transaction, in the
    order registered, before the person's emails and account go; raises Busy to
    give up with nothing deleted.
    """

    name: str
    export: Callable[[User, datetime], dict]
    erase: Callable[[User], dict[str, int]]
    plan: Callable[[User, datetime], dict] = field(default=lambda user, now: {})


_holders: list[Holder] = []


def register(holder: Holder) -> None:
    """Adds an app's part (from its AppConfig.ready); registering a name again
    replaces it."""
    _holders[:] = [h for h in _holders if h.name != holder.name] + [holder]


def iso(moment: datetime | None) -> str | None:
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
    store = session_store()
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
    data = {
        "format": FORMAT,
        "exported_at": iso(now),
        "profile": {
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "timezone": user.timezone,
            "email_reminders": user.email_reminders,
            "date_joined": iso(user.date_joined),
            "last_login": iso(user.last_login),
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
            {"type": kind, "added": iso(added), "last_used": iso(used)}
            for kind, added, used in Authenticator.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("type", "created_at", "last_used_at")
        ],
        "sessions": [
            {"expires": iso(expires)}
            for expires in sorted(session_expiries(user).values())
        ],
        "emails": [
            {
                "subject": subject,
                "kind": kind,
                "status": status,
                "to": to,
                "created_at": iso(created),
                "sent_at": iso(sent),
            }
            for subject, kind, status, to, created, sent in messages_to(user)
            .order_by("created_at", "pk")
            .values_list(
                "subject", "kind", "status", "to_email", "created_at", "sent_at"
            )
        ],
    }
    for holder in _holders:
        data.update(holder.export(user, now))
    return data


def deletion_plan(*, user: User, now: datetime | None = None) -> SimpleNamespace:
    """What delete_account will do, as each part's plan says (events: which active
    registrations it cancels, which it keeps on record without the person)."""
    now = now or timezone.now()
    plan = {}
    for holder in _holders:
        plan.update(holder.plan(user, now))
    return SimpleNamespace(**plan)


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
        counts: dict[str, int] = {}
        for holder in _holders:
            counts.update(holder.erase(locked))
        messages = erase_messages(messages_to(locked))
        Authenticator.objects.filter(user=locked).delete()
        EmailAddress.objects.filter(user=locked).delete()
        sessions = session_expiries(locked)
        store = session_store()
        for key in sessions:
            store(session_key=key).delete()
        pk = locked.pk
        locked.delete()
        rename_history(User, {pk: f"deleted account #{pk}"})
    return DeletedAccount(
        cancelled=counts.get("cancelled", 0),
        anonymised=counts.get("anonymised", 0),
        messages=messages,
        sessions=len(sessions),
    )
