"""Sending bad input to every URL the project has, and noting what breaks.

`routes()` lists the URL patterns from Django's resolver (so a new URL is swept
without anyone adding it here); the corpus below holds the bad values; a `Sweep`
sends requests and keeps every server error and every error page that is not ours.

Each request runs in a savepoint that is rolled back afterwards, and the client's
cookies are put back: every request meets the same rows and the same session, so
what one request does (sign out, delete, cancel) cannot hide a fault from the next,
and the order of requests changes nothing.
"""

import re
import traceback
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django.utils.regex_helper import normalize

FORM = "application/x-www-form-urlencoded"
CSRF_SECRET = "a" * 32  # a CSRF cookie, and the token that matches it
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

HUGE = "x" * 100_000

# Bad path segments, written as they travel in a URL (percent-encoded).
BAD_SEGMENTS = (
    "0",
    "-1",
    "99999999999999999999999",
    "abc",
    "unknown-slug",
    "%00",
    "a%00b",
    "%ff%fe",
    "%c3%28",
    quote("日本語"),
    quote("\u202eevil\u202c"),
    quote("🎉"),
    "..%2f..%2fetc%2fpasswd",
    "%20",
    "%22%3E%3Cscript%3E",
    HUGE,
)
# The bad segments also sent in a POST (every one is sent in a GET), and where a
# sample is enough.
POSTED_SEGMENTS = ("abc", "99999999999999999999999", "%00", "%ff%fe", HUGE)
# A path converter matches slashes too.
BAD_PATHS = ("../../etc/passwd", "a/b/c", "%2e%2e/%2e%2e/etc/passwd")

# Bad query-string values, percent-encoded.
BAD_QUERY_VALUES = (
    "",
    "-1",
    "99999999999999999999999",
    "%00",
    "%ff%fe",
    quote("日本語\u202e🎉 a b"),
    HUGE,
)
# The ones sent where a sample is enough (see tests/test_bad_input.py, "thorough").
SAMPLE_QUERY_VALUES = ("", "99999999999999999999999", "%00")
# Parameters many pages read (redirect targets, search, ordering, paging, the
# admin's own).
COMMON_QUERY_PARAMS = (
    "next",
    "q",
    "o",
    "p",
    "page",
    "e",
    "_changelist_filters",
    "_to_field",
    "_popup",
    "all",
)

# Form fields many forms read. A body either sets every one to the same bad value,
# or sets the fields that take a choice (a time zone, a language, an address) to a
# sensible one and only the free-text fields to the bad value, so that the bad value
# gets past the form's first check (POST /timezone/ reads `next` only once the zone
# is valid).
SENSIBLE_FIELDS = {
    "timezone": "Europe/Paris",
    "language": "fr",
    "email": "someone@example.com",
    "login": "someone@example.com",
    "country": "FR",
    "city": "Paris",
    "capacity": "10",
    "status": "published",
    "starts_at": "2030-01-01 10:00",
    "email_reminders": "on",
    "remember": "on",
    "confirm": "yes",
    "post": "yes",
}
FREE_TEXT_FIELDS = (
    "next",
    "q",
    "password",
    "password1",
    "password2",
    "oldpassword",
    "code",
    "key",
    "token",
    "name",
    "action",
    "_selected_action",
    "select_across",
    "index",
    "subject",
    "body",
    "title",
    "slug",
    "action_add",
    "action_remove",
    "action_primary",
    "action_send",
    "_save",
)
EVERY_FIELD_VALUES = ("", "99999999999999999999999", "\x00", "日本語\u202e🎉")
FREE_TEXT_VALUES = ("-1", "a b", "日本語", "//evil.example/", "(")


def _every_field(value: str) -> bytes:
    fields = (*SENSIBLE_FIELDS, *FREE_TEXT_FIELDS)
    return urlencode(dict.fromkeys(fields, value)).encode()


def _free_text(value: str) -> bytes:
    return urlencode(
        {**SENSIBLE_FIELDS, **dict.fromkeys(FREE_TEXT_FIELDS, value)}
    ).encode()


def _form_bodies() -> tuple[tuple[str, bytes, str], ...]:
    few = ("next", "q", "email", "password", "code")
    return (
        *[(f"form, free text {v!r}", _free_text(v), FORM) for v in FREE_TEXT_VALUES],
        *[
            (f"form, every field {v!r}", _every_field(v), FORM)
            for v in EVERY_FIELD_VALUES
        ],
        ("form, 100 KB values", urlencode(dict.fromkeys(few, HUGE)).encode(), FORM),
        ("form, 1001 fields", b"&".join([b"a=1"] * 1001), FORM),
    )


def _encoded_bodies() -> tuple[tuple[str, bytes, str], ...]:
    latin = "next=caf%E9&timezone=UTC&email=caf\xe9@example.com&language=fr"
    utf16 = _free_text("-1").decode().encode("utf-16")
    part = b'--xx\r\nContent-Disposition: form-data; name="next"\r\n\r\n/\r\n'
    json = b'{"next": -1, "email": ["x"], "code": null}'
    multipart = "multipart/form-data"
    return (
        ("form latin-1", latin.encode("latin-1"), f"{FORM}; charset=latin-1"),
        ("form utf-16", utf16, f"{FORM}; charset=utf-16"),
        ("form bogus-charset", _free_text("-1"), f"{FORM}; charset=bogus-charset"),
        (
            "multipart latin-1",
            part + b"--xx--",
            f"{multipart}; boundary=xx; charset=latin-1",
        ),
        ("multipart, broken boundary", part + b"--xx--", f"{multipart}; boundary=yy"),
        ("multipart, no boundary", part, multipart),
        ("multipart, empty boundary", part, f"{multipart}; boundary="),
        ("multipart, truncated", part[:-4], f"{multipart}; boundary=xx"),
        ("JSON sent as form", json, FORM),
        ("JSON", json, "application/json"),
        ("binary", bytes(range(256)), "application/octet-stream"),
    )


# (kind, body, Content-Type) of the POST bodies the sweep sends. FORM_BODIES are
# forms with bad values (the first is the one sent where only one is);
# ENCODED_BODIES are bodies Django cannot read as a form, or reads as nonsense, the
# same way whatever the URL.
FORM_BODIES = _form_bodies()
ENCODED_BODIES = _encoded_bodies()


# The routes ------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """A variable part of a URL: a path converter's (int, slug, str, path), or a
    regex group's (kind "regex")."""

    name: str
    kind: str


@dataclass(frozen=True)
class Route:
    """One URL pattern, with the prefixes of the resolvers that include it."""

    name: str  # "events:detail"; just the namespace ("admin:") if it has none
    parts: tuple  # literal strings and Params, in order
    callback: object

    @property
    def params(self) -> list[Param]:
        return [part for part in self.parts if isinstance(part, Param)]

    @property
    def template(self) -> str:
        return "/" + "".join(
            f"<{part.kind}:{part.name}>" if isinstance(part, Param) else part
            for part in self.parts
        )

    def url(self, values: dict[str, str]) -> str:
        return "/" + "".join(
            values[part.name] if isinstance(part, Param) else part
            for part in self.parts
        )


_ROUTE_PARAMETER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")
_FORMAT_PARAMETER = re.compile(r"%\((\w+)\)s")


def routes() -> list[Route]:
    """Every URL pattern of the root URLconf, as the resolver has them."""
    return list(_walk(get_resolver().url_patterns, (), ""))


def _walk(patterns, prefix: tuple, namespace: str):
    for pattern in patterns:
        parts = prefix + _parts(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, parts, inner)
        else:
            name = f"{namespace}{pattern.name or ''}"
            yield Route(name=name, parts=parts, callback=pattern.callback)


def _parts(pattern) -> tuple:
    if isinstance(pattern, RegexPattern):
        text, _params = normalize(pattern.regex.pattern)[0]
        return tuple(
            Param(piece, "regex") if index % 2 else piece.replace("%%", "%")
            for index, piece in enumerate(_FORMAT_PARAMETER.split(text))
            if piece
        )
    parts, position, route = [], 0, str(pattern)
    for match in _ROUTE_PARAMETER.finditer(route):
        parts.append(route[position : match.start()])
        parts.append(Param(match["name"], match["kind"] or "str"))
        position = match.end()
    parts.append(route[position:])
    return tuple(part for part in parts if part)


def bad_values(param: Param) -> tuple[str, ...]:
    """The bad values a parameter is tried with (a path converter's include slashes)."""
    if param.kind in ("path", "regex"):
        return BAD_SEGMENTS + BAD_PATHS
    return BAD_SEGMENTS


# Sending ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    method: str
    url: str
    body_kind: str = ""
    body: bytes = b""
    content_type: str = ""


@dataclass(frozen=True)
class Finding:
    who: str
    probe: Probe
    status: int
    detail: str

    def __str__(self) -> str:
        url = self.probe.url
        if len(url) > 160:
            url = f"{url[:120]}...({len(url)} chars)"
        kind = self.probe.body_kind or "no body"
        request = f"{self.probe.method} {url} [{kind}] as {self.who}"
        return f"{request} -> {self.status}: {self.detail}"


class _RollBack(Exception):
    pass


OUR_TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Statuses Django (or a view of ours) answers with an error page of ours.
ERROR_PAGES = (400, 403, 404, 405)


@dataclass
class Sweep:
    """Sends probes; keeps every 5xx and every 4xx page not rendered from ours."""

    sent: int = 0
    error_pages: int = 0  # 4xx pages checked for being ours
    server_errors: list[Finding] = field(default_factory=list)
    foreign_pages: list[Finding] = field(default_factory=list)

    def send(self, who: str, client: Client, probe: Probe):
        """Sends one probe in a savepoint it rolls back; returns the response, or
        None when an exception escaped Django's handler (a server answers 500)."""
        self.sent += 1
        cookies = {name: morsel.value for name, morsel in client.cookies.items()}
        n = self.sent
        extra = {
            "HTTP_ACCEPT": BROWSER_ACCEPT,
            # A client address of its own: per-address rate limits would otherwise
            # answer 429 before the form is read.
            "REMOTE_ADDR": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
        }
        response = None
        try:
            with transaction.atomic():
                response = client.generic(
                    probe.method,
                    probe.url,
                    data=probe.body,
                    content_type=probe.content_type,
                    **extra,
                )
                raise _RollBack
        except _RollBack:
            pass
        except Exception as error:  # noqa: BLE001 -- reported with the others
            detail = f"escaped Django's handler: {_where(error)}"
            self.server_errors.append(Finding(who, probe, 500, detail))
        finally:
            client.cookies = SimpleCookie(cookies)
        if response is not None:
            self._check(who, probe, response)
        return response

    def _check(self, who: str, probe: Probe, response) -> None:
        status = response.status_code
        if status >= 500:
            error = response.exc_info[1] if response.exc_info else None
            detail = _where(error) if error else "no exception recorded"
            self.server_errors.append(Finding(who, probe, status, detail))
        elif status in ERROR_PAGES and response.get("Content-Type", "").startswith(
            "text/html"
        ):
            self.error_pages += 1
            if not any(_is_ours(template) for template in response.templates):
                names = sorted({t.name for t in response.templates if t.name})
                detail = f"not our error page (templates: {names or 'none'})"
                self.foreign_pages.append(Finding(who, probe, status, detail))

    def report(self) -> str:
        lines = [f"{self.sent} requests sent."]
        if self.server_errors:
            lines.append(f"{len(self.server_errors)} server errors:")
            lines += [f"  {finding}" for finding in self.server_errors]
        if self.foreign_pages:
            lines.append(f"{len(self.foreign_pages)} error pages that are not ours:")
            lines += [f"  {finding}" for finding in self.foreign_pages]
        return "\n".join(lines)


def _is_ours(template) -> bool:
    name = getattr(getattr(template, "origin", None), "name", None)
    return bool(name) and Path(str(name)).is_relative_to(OUR_TEMPLATES)


def _where(error: BaseException) -> str:
    """The exception, where it was raised, and the last frame of the project's code
    on the way (its owner's place to start)."""
    frames = traceback.extract_tb(error.__traceback__)
    message = (str(error).splitlines() or [""])[0][:200]
    text = f"{type(error).__name__}: {message}"
    if frames:
        text += f" (raised at {_frame(frames[-1])}"
        ours = [f for f in frames if _is_project_code(f.filename)]
        if ours and ours[-1] is not frames[-1]:
            text += f", from {_frame(ours[-1])}"
        text += ")"
    return text


def _frame(frame) -> str:
    path = Path(frame.filename)
    if path.is_relative_to(settings.BASE_DIR) and ".venv" not in path.parts:
        path = path.relative_to(settings.BASE_DIR)
    elif "site-packages" in path.parts:
        path = Path(*path.parts[path.parts.index("site-packages") + 1 :])
    return f"{path}:{frame.lineno} in {frame.name}"


def _is_project_code(filename: str) -> bool:
    path = Path(filename)
    return (
        path.is_relative_to(settings.BASE_DIR)
        and ".venv" not in path.parts
        and "tests" not in path.relative_to(settings.BASE_DIR).parts
    )
