"""Events' part of a person's data (accounts.privacy): their registrations."""

from datetime import datetime

from accounts import privacy
from accounts.models import User
from events import exceptions, services
from events.models import Registration
from events.retention import anonymise_registrations


def _registration(registration: Registration) -> dict:
    event = registration.event
    return {
        "event": {
            "title": event.safe_translation_getter("title", any_language=True),
            "slug": event.slug,
            "city": event.city,
            "country": str(event.country),
            "timezone": event.timezone,
            "starts_at": privacy.iso(event.starts_at),
            "starts_at_local": event.starts_at.astimezone(event.zone).isoformat(),
            "ends_at": privacy.iso(event.ends_at),
            "ends_at_local": event.ends_at.astimezone(event.zone).isoformat(),
        },
        "status": registration.status,
        "ticket_code": registration.ticket_code,
        "registered_at": privacy.iso(registration.created_at),
        "confirmed_at": privacy.iso(registration.confirmed_at),
        "waitlisted_at": privacy.iso(registration.waitlisted_at),
        "cancelled_at": privacy.iso(registration.cancelled_at),
        "checked_in_at": privacy.iso(registration.checked_in_at),
    }


def export(user: User, now: datetime) -> dict:
    registrations = (
        Registration.objects.filter(user=user)
        .select_related("event")
        .prefetch_related("event__translations")
        .order_by("event__starts_at", "pk")
    )
    return {"registrations": [_registration(r) for r in registrations]}


def plan(user: User, now: datetime) -> dict:
    """The person's active registrations, split as erase will treat them: cancelled
    (not started: the seat passed on), kept (started: on record, without them)."""
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
    return {"cancelled": cancelled, "kept": kept}


def erase(user: User) -> dict[str, int]:
    """Cancels the person's active registrations of events not started, through
    cancel_registration (the waitlist moves, and whoever gets the seat is told);
    then every registration stays as a record without the person."""
    cancelled = 0
    # Events locked in one order, as every other transaction locks one at most.
    for registration in (
        Registration.objects.active().filter(user=user).order_by("event_id")
    ):
        try:
            services.cancel_registration(registration=registration)
        except exceptions.RegistrationLocked:
            continue  # the event started: what happened stays on record
        except exceptions.EventBusy as error:
            raise privacy.Busy(error.message) from error
        cancelled += 1
    anonymised = anonymise_registrations(Registration.objects.filter(user=user))
    return {"cancelled": cancelled, "anonymised": anonymised}


def register() -> None:
    privacy.register(
        privacy.Holder(name="events", export=export, erase=erase, plan=plan)
    )
