from accounts.models import User


def update_profile(*, user: User, name: str, timezone: str, language: str) -> User:
    """Saves the attendee's display name, time zone and language."""
    user.name = name
    user.timezone = timezone
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["name", "timezone", "language"])
    return user
