from accounts.models import User


def update_profile(
    *,
    user: User,
    name: str,
    timezone: str,
    email_reminders: bool = True,
    language: str | None = None,
) -> User:
    """Saves the attendee's display name, time zone, reminder choice and language."""
    user.name = name
    user.timezone = timezone
    user.email_reminders = email_reminders
    if language is not None:
        user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["name", "timezone", "language", "email_reminders"])
    return user


def stop_reminders(*, user: User) -> User:
    """Turns reminder emails off (the one-click unsubscribe). Idempotent."""
    user.email_reminders = False
    user.save(update_fields=["email_reminders"])
    return user


def set_language(*, user: User, language: str) -> User:
    """Saves the reader's language (one of settings.LANGUAGES); emails follow it."""
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language"])
    return user


def set_timezone(*, user: User, timezone: str) -> User:
    """Saves the zone the reader's clock is in (an IANA name, or "" for none)."""
    user.timezone = timezone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["timezone"])
    return user
