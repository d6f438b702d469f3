"""The site's public address (TURNOUT_SITE_URL), the one source of every absolute
link and every host name Turnout writes (emails, feeds, invitations, QR Content-IDs).

Built from settings, never from a request's Host header: a Host a client chose must
never appear in a link we email.
"""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


def absolute(path: str) -> str:
    """path (with its query and fragment) on our public address."""
    return settings.SITE_URL.rstrip("/") + path


def on_site(url: str) -> str:
    """The same link (path, query, fragment) on our public address, whatever host
    it was built with."""
    parts = urlsplit(url)
    return absolute(urlunsplit(("", "", parts.path, parts.query, parts.fragment)))


def domain() -> str:
    """host[:port] of the public address, as allauth's current_site.domain."""
    return urlsplit(settings.SITE_URL).netloc


def host() -> str:
    """The public address's host name, for identifiers (UIDs, Content-IDs)."""
    return urlsplit(settings.SITE_URL).hostname or "turnout.localhost"


def is_https() -> bool:
    """Whether the public address is served over HTTPS."""
    return urlsplit(settings.SITE_URL).scheme == "https"
