"""Bad input is a 4xx with our page, never a 500 (CONVENTIONS, "Security and privacy").

Every URL pattern the resolver knows is sent bad input: its path parameters filled
with real ids and with unknown, malformed, huge and odd ones; every method; bad query
strings (and on the admin's lists, bad values for each declared filter, the date
hierarchy, lookups nobody declared, and each action); bodies Django cannot read as a
form, and missing or wrong CSRF tokens. Each URL is visited signed out, and signed
in: as an attendee, else (where an attendee is refused, and on every admin page) as
a member of "Event managers", else as a superuser. Then Hypothesis sends text of
its own to a few pages, and config.middleware.FormCharsetMiddleware is tested on
its own.
"""

import inspect
import logging
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import ModelAdmin, SimpleListFilter
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import DateField
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils.text import slugify
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cities.models import CitySubscription
from events import roles
from events.messages import Kind
from events.models import Event
from notifications import links
from notifications.models import Message
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.support.sweep import (
    BAD_QUERY_VALUES,
    COMMON_QUERY_PARAMS,
    CSRF_SECRET,
    ENCODED_BODIES,
    FORM,
    FORM_BODIES,
    POSTED_SEGMENTS,
    SAMPLE_QUERY_VALUES,
    Probe,
    Route,
    Sweep,
    bad_values,
    routes,
)

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
LOGIN_PAGES = ("account_login", "admin:login")
# What the admin's lists are sent besides their declared filters: lookups nobody
# declared (on hidden columns, secrets, across relations) and impossible dates.
FREE_LOOKUPS = (
    "body_text__regex=(",
    "password__startswith=x",
    "user__password__startswith=x",
    "ticket_code__startswith=A",
    "pk__in=abc",
    "id__gt=99999999999999999999999",
    "nonexistent=1",
    "event__nonexistent__exact=1",
    "created_at__year=99999999999999999999999",
    "created_at__month=13",
    "starts_at__year=99999999999999999999999",
)
FILTER_VALUES = ("abc", "%00", "99999999999999999999999", "-1", quote("日本語"))
# After "<date_hierarchy>__": {field} is the date hierarchy's field.
DATE_PARTS = (
    "year=99999999999999999999999",
    "year=0",
    "year=-1",
    "year=abc",
    "year=%00",
    "year=2025&{field}__month=13",
    "year=2025&{field}__month=2&{field}__day=30",
    "year=9999&{field}__month=12&{field}__day=31",
    "month=12",
)
SELECTED = ("abc", "-1", "99999999999999999999999", "%00", "")
# The second step of the actions that ask first (confirm, a form), filled badly.
ACTION_FORM = {
    "post": "yes",
    "confirm": "yes",
    "key": "abc",
    "subject": "日本語\x00",
    "body": "(",
    "city": "\x00",
    "country": "ZZ",
    "timezone": "Mars/Olympus",
    "starts_at": "99999999999999999999999",
    "venue_name": "",
    "title": "\u202e",
}


@pytest.fixture(autouse=True)
def _quiet(caplog):
    """Thousands of 4xx are the point here, each a warning from Django (and some
    with a 100 KB URL in it): only errors are logged."""
    for logger in ("django.request", "django.security"):
        caplog.set_level(logging.ERROR, logger=logger)


@dataclass
class Visitor:
    """A name for the report, a client, and a client that enforces CSRF checks."""

    name: str
    client: Client
    strict: Client


@dataclass
class World:
    """The rows real values come from, and the visitors."""

    event: Event
    valid: dict  # route name -> {parameter: value}
    by_name: dict  # parameter name -> value, for the routes valid does not name
    anonymous: Visitor
    signed_in: list  # attendee, manager, superuser: who visits a page signed in


def visitor(name: str, user=None, *, password_login: bool = False) -> Visitor:
    clients = []
    for strict in (False, True):
        client = Client(raise_request_exception=False, enforce_csrf_checks=strict)
        if password_login:
            # Signed in, and the password confirmed again, through allauth: its
            # pages for the recently confirmed (two-factor set-up) then open.
            client.post(
                reverse("account_login"), {"login": user.email, "password": PASSWORD}
            )
            client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        elif user is not None:
            client.force_login(user)
        clients.append(client)
    return Visitor(name, *clients)


def _last_segment(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def world():
    event = EventFactory()
    EventFactory(status=Event.Status.DRAFT)
    attendee = UserFactory()
    registration = RegistrationFactory(event=event, user=attendee)
    city = slugify(event.city)
    CitySubscription.objects.create(user=attendee, city_slug=city, city_name=event.city)
    Message.objects.create(
        kind=Kind.CONFIRMED,
        user=attendee,
        to_email=attendee.email,
        event=event,
        registration=registration,
        subject="Your seat",
        body_text="See you there.",
    )
    manager = UserFactory(is_staff=True)
    manager.groups.add(Group.objects.get(name=roles.MANAGERS))
    superuser = UserFactory(is_staff=True, is_superuser=True)
    RecoveryCodes.activate(superuser)

    address = EmailAddress.objects.get(user=attendee)
    valid = {
        "cities:city": {"slug": city},
        "cities:city_feed": {"slug": city},
        "cities:follow": {"slug": city},
        "cities:unfollow": {"slug": city},
        "events:release": {
            "token": _last_segment(links.url(links.RELEASE_SEAT, registration.pk))
        },
        "cities:unfollow_link": {
            "token": _last_segment(links.url(links.UNFOLLOW_CITY, [attendee.pk, city]))
        },
        "accounts:unsubscribe": {
            "token": _last_segment(links.url(links.STOP_REMINDERS, attendee.pk))
        },
        "events:ticket": {"code": registration.ticket_code},
        "events:cancel": {"pk": str(registration.pk)},
        "account_confirm_email": {"key": EmailConfirmationHMAC(address).key},
        "account_reset_password_from_key": {
            "uidb36": user_pk_to_url_str(attendee),
            "key": default_token_generator.make_token(attendee),
        },
        "admin:view_on_site": {
            "content_type_id": str(ContentType.objects.get_for_model(Event).pk),
            "object_id": str(event.pk),
        },
        "admin:app_list": {"app_label": "events"},
        "admin:events_event_delete_translation": {"_0": str(event.pk), "_1": "en"},
    }
    return World(
        event=event,
        valid=valid,
        by_name={"slug": event.slug, "object_id": str(event.pk), "url": "events/"},
        anonymous=visitor("anonymous"),
        signed_in=[
            visitor("attendee", attendee, password_login=True),
            visitor("manager", manager),
            visitor("superuser", superuser),
        ],
    )


def model_admin_of(route: Route) -> ModelAdmin | None:
    """The ModelAdmin serving a route, if any: Django marks its views with it, and
    other admin views are its methods, under decorators."""
    view = route.callback
    while view is not None:
        for candidate in (
            getattr(view, "model_admin", None),
            getattr(view, "__self__", None),
        ):
            if isinstance(candidate, ModelAdmin):
                return candidate
        view = getattr(view, "__wrapped__", None)
    return None


def first_pk(model_admin: ModelAdmin) -> str:
    manager = model_admin.model._default_manager
    return str(manager.order_by("pk").values_list("pk", flat=True).first())


def valid_values(route: Route, world: World) -> dict[str, str]:
    """A real value for each parameter: the route's own, else a row of its admin's
    model, else one by the parameter's name, else the event's id or slug."""
    values = dict(world.valid.get(route.name, {}))
    model_admin = model_admin_of(route)
    for param in route.params:
        if param.name in values:
            continue
        if model_admin is not None and param.name in ("object_id", "id", "_0"):
            values[param.name] = quote(first_pk(model_admin), safe="")
        elif param.name in world.by_name:
            values[param.name] = world.by_name[param.name]
        elif param.kind == "int":
            values[param.name] = str(world.event.pk)
        else:
            values[param.name] = world.event.slug
    return values


def resolves(url: str) -> bool:
    try:
        resolve(unquote(url))
    except Resolver404:
        return False
    return True


def refused(response) -> bool:
    """Sent to sign in, or told "not allowed": someone else has to visit."""
    if response is None or response.status_code not in (302, 403):
        return False
    if response.status_code == 403:
        return True
    return response["Location"].split("?", 1)[0] in {reverse(n) for n in LOGIN_PAGES}


def visitor_for(sweep: Sweep, route: Route, url: str, world: World):
    """Who visits the URL signed in, and whether they were refused too: the first
    visitor a GET does not refuse, else the last. The admin's pages are visited from
    the manager on."""
    candidates = world.signed_in
    if route.name.startswith("admin:"):
        candidates = candidates[1:]
    for candidate in candidates:
        response = sweep.send(candidate.name, candidate.client, Probe("GET", url))
        if not refused(response):
            return candidate, False
    return candidates[-1], True


def view_of(route: Route) -> str:
    """The code a route runs, the same for every model's admin (each model's change
    page runs ModelAdmin.change_view): the whole corpus goes to the first route."""
    view = inspect.unwrap(route.callback)
    view = getattr(view, "view_class", None) or getattr(view, "__func__", view)
    return f"{view.__module__}.{view.__qualname__}"


def everything(route: Route, url: str, valid: dict, *, thorough: bool) -> list[Probe]:
    """Every method but the GET already sent, form bodies and bad query strings on
    the valid URL; then each parameter given bad values. Thorough: also bodies
    Django cannot read, and every bad value (else a sample)."""
    probes = [Probe(method, url) for method in ("HEAD", "OPTIONS", "DELETE")]
    probes.append(Probe("PUT", url, *FORM_BODIES[0]))
    bodies = FORM_BODIES + ENCODED_BODIES if thorough else FORM_BODIES
    probes += [Probe("POST", url, *body) for body in bodies]
    for value in BAD_QUERY_VALUES if thorough else SAMPLE_QUERY_VALUES:
        query = "&".join(f"{param}={value}" for param in COMMON_QUERY_PARAMS)
        probes.append(Probe("GET", f"{url}?{query}"))
    for param in route.params:
        for bad in bad_values(param) if thorough else POSTED_SEGMENTS:
            bad_url = route.url({**valid, param.name: bad})
            probes.append(Probe("GET", bad_url))
            if bad in POSTED_SEGMENTS and resolves(bad_url):
                probes.append(Probe("POST", bad_url, *FORM_BODIES[0]))
    return probes


def admin_list(url: str, model_admin: ModelAdmin) -> list[Probe]:
    """Each declared filter, the date hierarchy, free lookups, and each action."""
    params = []
    for item in model_admin.list_filter:
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            params.append(item.parameter_name)
            continue
        path = item[0] if isinstance(item, (list, tuple)) else item
        field = model_admin.model._meta.get_field(path.split("__")[0])
        lookups = ["exact", "isnull"]
        if field.is_relation:
            lookups.append("id__exact")
        if isinstance(field, DateField):
            lookups += ["gte", "lt"]
        params += [f"{path}__{lookup}" for lookup in lookups]
    queries = [f"{param}={value}" for param in params for value in FILTER_VALUES]
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        queries += [f"{field}__{part.format(field=field)}" for part in DATE_PARTS]
    queries += FREE_LOOKUPS
    probes = [Probe("GET", f"{url}?{query}") for query in queries]

    pk = first_pk(model_admin)
    actions = [name for name, _function in admin.site.actions]
    actions += [
        a if isinstance(a, str) else a.__name__ for a in model_admin.actions or ()
    ]
    for action in (*actions, "no-such-action"):
        kind = f"action {action}"
        for selected in (*SELECTED, pk):
            body = f"action={action}&index=0&_selected_action={selected}".encode()
            probes.append(Probe("POST", url, kind, body, FORM))
        for extra in ({"select_across": "1", "index": "abc"}, ACTION_FORM):
            body = urlencode({"action": action, "_selected_action": pk, **extra})
            probes.append(Probe("POST", url, kind, body.encode(), FORM))
    return probes


def csrf_probes(url: str, *, thorough: bool) -> list[tuple[str, Probe]]:
    """(CSRF cookie, probe): a POST with a wrong CSRF token; thorough: also with
    none, and with the right one in a form Django cannot read."""
    wrong = b"csrfmiddlewaretoken=x"
    probes = [(CSRF_SECRET, Probe("POST", url, "form, wrong CSRF token", wrong, FORM))]
    if thorough:
        probes.append(("", Probe("POST", url, "form, no CSRF cookie", b"next=/", FORM)))
        body = f"csrfmiddlewaretoken={CSRF_SECRET}&next=/&timezone=UTC"
        for charset in ("latin-1", "utf-16"):
            kind = f"form {charset}, right CSRF token"
            content_type = f"{FORM}; charset={charset}"
            probe = Probe("POST", url, kind, body.encode(charset), content_type)
            probes.append((CSRF_SECRET, probe))
    return probes


def sweep_route(sweep: Sweep, route: Route, world: World, *, thorough: bool) -> None:
    """Visits the route signed out, then signed in (see visitor_for). Thorough for
    the first route of each view (see view_of), signed in: bodies Django cannot
    read, and a CSRF check that fails, go the same way on every other visit."""
    valid = valid_values(route, world)
    url = route.url(valid)
    model_admin = model_admin_of(route)
    admin_probes = []
    if model_admin is not None and route.name.endswith("_changelist"):
        admin_probes = admin_list(url, model_admin)

    signed_in, signed_in_refused = visitor_for(sweep, route, url, world)
    anonymous = world.anonymous
    response = sweep.send(anonymous.name, anonymous.client, Probe("GET", url))
    for who, was_refused, deep in (
        (anonymous, refused(response), False),
        (signed_in, signed_in_refused, thorough),
    ):
        if was_refused:
            probes = [Probe("POST", url, *FORM_BODIES[0])]
        else:
            probes = everything(route, url, valid, thorough=deep) + admin_probes
        for probe in probes:
            sweep.send(who.name, who.client, probe)
        for cookie, probe in csrf_probes(url, thorough=deep):
            who.strict.cookies.pop(settings.CSRF_COOKIE_NAME, None)
            if cookie:
                who.strict.cookies[settings.CSRF_COOKIE_NAME] = cookie
            sweep.send(f"{who.name}, CSRF checked", who.strict, probe)


def test_no_url_answers_bad_input_with_a_server_error(world):
    """The failure lists every request answered with a 5xx (with the exception and
    where it was raised) and every 4xx page that is not one of ours."""
    sweep = Sweep()
    views = set()
    for route in routes():
        view = view_of(route)
        sweep_route(sweep, route, world, thorough=view not in views)
        views.add(view)
    # The resolver's patterns were found, and error pages were looked at.
    assert sweep.sent > 1000
    assert sweep.error_pages > 1000
    if sweep.server_errors or sweep.foreign_pages:
        pytest.fail(sweep.report(), pytrace=False)


# Text Hypothesis makes up ----------------------------------------------------------
# Everything but lone surrogates, which no URL or UTF-8 body can carry.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


def test_made_up_text_is_never_a_server_error(world):
    """Derandomized: the same 30 strings on every run, wherever it runs."""
    sweep = Sweep()
    # Pages with a parameter that takes any text (others answer 404 to most text).
    text_routes = [
        route
        for route in routes()
        if any(param.kind in ("str", "path", "regex") for param in route.params)
        and not route.name.startswith("admin:")
    ]
    visitors = {}
    for route in text_routes:
        url = route.url(valid_values(route, world))
        visitors[route], _refused = visitor_for(sweep, route, url, world)
    anonymous, manager = world.anonymous, world.signed_in[1]
    # (visitor, URL, parameters given the text)
    queries = (
        (anonymous, reverse("account_login"), ("next",)),
        (manager, reverse("admin:events_registration_changelist"), ("q",)),
        (manager, reverse("admin:events_event_changelist"), ("q", "o")),
    )
    # (visitor, URL, fields given the text, fields given a good value)
    forms = (
        (anonymous, reverse("accounts:set_timezone"), ("next",), {"timezone": "UTC"}),
        (anonymous, reverse("accounts:set_language"), ("language", "next"), {}),
        (anonymous, reverse("account_login"), ("login", "password"), {}),
        (anonymous, reverse("account_signup"), ("email", "password1"), {}),
        (
            manager,
            reverse("checkin:scan", args=[world.event.slug]),
            ("code",),
            {},
        ),
    )

    @hypothesis_settings(
        max_examples=30,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(text=TEXT)
    def send(text):
        segment = quote(text, safe="") or "-"
        for route in text_routes:
            who, valid = visitors[route], valid_values(route, world)
            for param in route.params:
                url = route.url({**valid, param.name: segment})
                sweep.send(who.name, who.client, Probe("GET", url))
        for who, url, names in queries:
            query = urlencode(dict.fromkeys(names, text))
            sweep.send(who.name, who.client, Probe("GET", f"{url}?{query}"))
        for who, url, names, good in forms:
            body = urlencode({**good, **dict.fromkeys(names, text)}).encode()
            sweep.send(who.name, who.client, Probe("POST", url, "form", body, FORM))

    send()
    if sweep.server_errors or sweep.foreign_pages:
        pytest.fail(sweep.report(), pytrace=False)
