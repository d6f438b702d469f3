"""Every signed link Turnout puts in an email, made and read here, each with its salt
and its lifetime.

A link needs no login: its token is the credential, signed with SECRET_KEY and the
link's own salt (a token made for one link is worthless for another) and stamped
with the time it was made (Django's signing.dumps, so the tokens in emails already
sent still read). Each lifetime outlives the emails that carry the link:

- Release my seat (every email about an active registration): no age limit of its
  own. It works while its registration is active and until its event starts,
  checked against the event as it is when the link is used (a moved event moves
  it); after the start the page says it has expired (410).
- Stop reminder emails (reminders) and stop news of a city (city news): a year.
  Reminders go out at most 60 days before an event and news when it is announced,
  so a year covers the event and the questions after it; each new email brings a
  fresh link. An older one gets the expired page (410) and changes nothing.
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.shortcuts import render
from django.urls import reverse

from config.site import absolute

# The links' clock, seconds since the epoch. Tests freeze it.
clock = time.time


@dataclass(frozen=True)
class Link:
    salt: str
    url_name: str  # its URL pattern takes the token as `token`
    max_age: timedelta | None  # None: bounded by what it acts on, not by its age


RELEASE_SEAT = Link("turnout.release-seat", "events:release", max_age=None)
STOP_REMINDERS = Link(
    "turnout.unsubscribe-reminders", "accounts:unsubscribe", max_age=timedelta(days=365)
)
UNFOLLOW_CITY = Link(
    "turnout.unfollow-city", "cities:unfollow_link", max_age=timedelta(days=365)
)


class _Signer(signing.TimestampSigner):
    """Django's timestamped signer (the tokens of signing.dumps), on this module's
    clock for both the stamp and the age."""

    def timestamp(self):
        return signing.b62_encode(int(clock()))

    def unsign(self, value, max_age=None):
        value, stamp = signing.Signer.unsign(self, value).rsplit(self.sep, 1)
        if max_age is not None:
            age = clock() - signing.b62_decode(stamp)
            if age > max_age.total_seconds():
                raise signing.SignatureExpired(f"Signature age {age} > {max_age}")
        return value


def path(link: Link, value) -> str:
    """The path of link carrying value (JSON: a pk, or a list of simple values)."""
    token = _Signer(salt=link.salt).sign_object(value, compress=True)
    return reverse(link.url_name, kwargs={"token": token})


def read(link: Link, token: str):
    """The value a token of link carries.

    Raises signing.SignatureExpired when it is older than the link's max_age, and
    signing.BadSignature (its base class) when it was altered, cut short or made for
    another link.
    """
    return _Signer(salt=link.salt).unsign_object(token, max_age=link.max_age)


def url(link: Link, value) -> str:
    """The absolute link (on the public address, config.site) carrying value."""
    return absolute(path(link, value))


def invalid_link_page(request, *, status: int, expired=False, too_old=False):
    """The page of a signed link that does nothing: altered or not ours (400), too
    old for its max_age, or past what it acts on (an event that started) (410)."""
    context = {"expired": expired or too_old, "too_old": too_old}
    return render(request, "link_invalid.html", context, status=status)
