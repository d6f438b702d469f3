"""How often one person, and one address, may do what sends email or scans tickets.

Anti-automation, not a quota: the rates (settings.TURNOUT_RATE_LIMITS) are far above
what a person does by hand. Each action has one or more rates, in the syntax of
allauth's ACCOUNT_RATE_LIMITS, "amount/period/per":

- per "user": the person acting (signed in, or the owner of a signed link);
- per "ip": the client's address, found exactly as allauth finds it for its own
  limits (ALLAUTH_TRUSTED_PROXY_COUNT / ALLAUTH_TRUSTED_CLIENT_IP_HEADER), IPv6
  grouped by its /64 like allauth's (ALLAUTH_RATE_LIMIT_IPV6_PREFIX);
- per "user+target": the person and one thing, e.g. one event.

allauth's own limiter (allauth.core.ratelimit.consume) reads only allauth's settings,
cannot say when the next attempt would pass (Retry-After), and consumes one rate
before checking the next; so this is a small limiter of its own, in the same window
(a sliding log of attempts) and on the same shared cache, Redis or the file cache
every local process sees. An attempt is counted only when every rate allows it: a
refused attempt changes nothing, not even the counts.
"""

import ipaddress
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from allauth import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# The limiter's clock, seconds since the epoch. Tests freeze it.
clock = time.time

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SCOPES = ("user", "ip", "user+target")
# Two processes must not interleave the read and write of one count: each count has a
# lock in the cache, an atomic SET NX on Redis. The file cache's add() checks, then
# writes, so processes hitting one count in the same instant may all pass it: a count
# can come out short there (never too high). A lock left by a dead process lapses.
LOCK_TIMEOUT = 10
LOCK_WAIT = 1.0


@dataclass(frozen=True)
class Rate:
    amount: int
    period: float  # seconds
    per: str

    def __str__(self) -> str:
        return f"{self.amount}/{self.period:g}s/{self.per}"


@dataclass(frozen=True)
class Limited:
    """A refused attempt: one more would be allowed in retry_after seconds."""

    retry_after: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


@lru_cache(maxsize=64)
def parse_rates(text: str) -> tuple[Rate, ...]:
    """Rates from text such as "10/10m/user+target,30/1h/user".

    Raises ImproperlyConfigured when a rate is malformed.
    """
    rates = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            amount, duration, per = part.split("/")
            count = float(duration[:-1] or 1)
            rate = Rate(int(amount), count * PERIODS[duration[-1]], per)
        except (ValueError, KeyError, IndexError):
            raise ImproperlyConfigured(
                f"TURNOUT_RATE_LIMITS: bad rate {part!r}"
            ) from None
        if rate.per not in SCOPES or rate.amount < 0 or rate.period <= 0:
            raise ImproperlyConfigured(f"TURNOUT_RATE_LIMITS: bad rate {part!r}")
        rates.append(rate)
    return tuple(rates)


def rates_for(action: str) -> tuple[Rate, ...]:
    return parse_rates(settings.TURNOUT_RATE_LIMITS.get(action) or "")


def consume(
    action: str,
    *,
    user: int | None = None,
    ip: str | None = None,
    target: str | None = None,
    now: float | None = None,
) -> Limited | None:
    """Counts one attempt at action, or refuses it when any of its rates is used up.

    user is the acting user's pk, ip the client's address, target what is acted on
    (e.g. "event:12"); a rate whose scope is missing (no user) does not apply. Returns
    None when the attempt is allowed (and counted), else Limited, counting nothing.
    A count that stays locked by another process for a second refuses too.
    """
    now = clock() if now is None else now
    sources = {"user": user, "ip": ip, "user+target": None}
    if user is not None and target is not None:
        sources["user+target"] = f"{user}:{target}"
    keyed = {
        f"turnout:rl:{action}:{rate}:{sources[rate.per]}": rate
        for rate in rates_for(action)
        if sources[rate.per] is not None
    }
    if not keyed:
        return None
    with _locks(sorted(keyed)) as locked:
        if not locked:
            return Limited(retry_after=1)
        logs = cache.get_many(list(keyed))
        kept, waits = {}, []
        for key, rate in keyed.items():
            recent = [at for at in logs.get(key, []) if at > now - rate.period]
            if len(recent) >= rate.amount:
                # Allowed again when the oldest attempt in the window leaves it.
                oldest = sorted(recent)[-rate.amount] if rate.amount else now
                waits.append(oldest + rate.period - now)
            kept[key] = recent
        if waits:
            return Limited(retry_after=max(1, math.ceil(max(waits))))
        for key, rate in keyed.items():
            cache.set(key, [*kept[key], now], timeout=math.ceil(rate.period))
    return None


@contextmanager
def _locks(keys: list[str]):
    """Takes each key's lock in order (so two callers cannot deadlock); yields False
    when one stays taken for LOCK_WAIT seconds."""
    held = []
    try:
        for key in keys:
            if not _take(f"{key}:lock"):
                yield False
                return
            held.append(f"{key}:lock")
        yield True
    finally:
        cache.delete_many(held)


def _take(lock: str) -> bool:
    deadline = time.monotonic() + LOCK_WAIT
    pause = 0.005
    while not cache.add(lock, 1, timeout=LOCK_TIMEOUT):
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
    return True


def client_ip(request: HttpRequest) -> str:
    """The client's address as allauth's rate limits see it (its adapter honours
    ALLAUTH_TRUSTED_PROXY_COUNT); an IPv6 address stands for its network."""
    ip = get_adapter(request).get_client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        prefix = allauth_settings.RATE_LIMIT_IPV6_PREFIX
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return ip


def limit(
    request: HttpRequest,
    action: str,
    *,
    user_id: int | None = None,
    target: str | None = None,
) -> Limited | None:
    """consume() for this request: its client address, and user_id (default: the
    signed-in user's, if any). Returns None, or Limited when refused."""
    if user_id is None and request.user.is_authenticated:
        user_id = request.user.pk
    return consume(action, user=user_id, ip=client_ip(request), target=target)


def refused(
    request: HttpRequest,
    action: str,
    *,
    user_id: int | None = None,
    target: str | None = None,
) -> HttpResponse | None:
    """limit(), answered for a page: the 429 page when the attempt is refused, else
    None (the attempt was counted) and the view goes on."""
    limited = limit(request, action, user_id=user_id, target=target)
    return None if limited is None else too_many_attempts(request, limited)


def too_many_attempts(request: HttpRequest, limited: Limited) -> HttpResponse:
    """The 429 page: try again in so many minutes; Retry-After in seconds."""
    response = render(request, "429.html", {"minutes": limited.minutes}, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response
