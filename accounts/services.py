from accounts.models import User


def update_profile(
    *, user: User, name: str, timezone: str, language: str | None = None
) -> User:
    """Saves the attendee's display name, time zone and (when given) language."""
    user.name = name
    user.timezone = timezone
    if language is not None:
        user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["name", "timezone", "language"])
    return user
