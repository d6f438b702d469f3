"""Every signed link Turnout emails, made and read here, each with its salt and its
lifetime.

A link works without signing in: its signature is the credential, and it names one
thing (a registration, an account, a follow). It is read with its max_age, so an old
email's link ends; past it the page says the link expired and where to do the same
signed in. Lifetimes outlast what the link is for:

==================  =======================================  =========  =============
Link                Does                                      max_age    Made by
==================  =======================================  =========  =============
RELEASE_SEAT        gives up a seat or waitlist place          400 days   events
STOP_REMINDERS      turns reminder emails off (RFC 8058)       400 days   events
UNFOLLOW_CITY       stops news of one city (RFC 8058)          400 days   cities
==================  =======================================  =========  =============

400 days: registration opens at most about a year before an event, and a reminder's
one-click unsubscribe must keep working for as long as mail clients keep the email
in view; the release page itself refuses once the event has started.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.urls import reverse

from config.site import absolute

__all__ = ["RELEASE_SEAT", "STOP_REMINDERS", "UNFOLLOW_CITY", "SignedLink"]

Expired = signing.SignatureExpired
Invalid = signing.BadSignature  # Expired is one too


@dataclass(frozen=True)
class SignedLink:
    salt: str
    url_name: str  # takes the token as its one argument, "token"
    max_age: timedelta

    def make(self, value) -> str:
        """The absolute link carrying value (JSON-serializable), signed now."""
        token = signing.dumps(value, salt=self.salt, compress=True)
        return absolute(reverse(self.url_name, kwargs={"token": token}))

    def read(self, token: str):
        """The value the link carries; raises Expired past max_age, Invalid for a
        token that is not one of ours."""
        return signing.loads(token, salt=self.salt, max_age=self.max_age)


RELEASE_SEAT = SignedLink("turnout.release-seat", "events:release", timedelta(days=400))
STOP_REMINDERS = SignedLink(
    "turnout.unsubscribe-reminders", "accounts:unsubscribe", timedelta(days=400)
)
UNFOLLOW_CITY = SignedLink(
    "turnout.unfollow-city", "cities:unfollow_link", timedelta(days=400)
)
