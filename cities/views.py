"""A series that spans cities: city pages, following a city, and iCal feeds."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from cities import selectors, services
from cities.models import CitySubscription
from events import calendar, ratelimits
from notifications import links


@require_GET
def city(request, slug):
    """A city's upcoming events, and following it for news of the next one."""
    place = selectors.city(slug=slug)
    following = (
        request.user.is_authenticated
        and CitySubscription.objects.filter(user=request.user, city_slug=slug).exists()
    )
    context = {
        "city": place,
        "events": selectors.events_in_city(city=place, viewer=request.user),
        "following": following,
    }
    return render(request, "cities/city.html", context)


def _too_often(request, slug, *, user_id=None):
    """Following and unfollowing a city share one count per person and city."""
    return ratelimits.refused(request, "follow", user_id=user_id, target=f"city:{slug}")


@require_POST
@login_required
def follow(request, slug):
    place = selectors.city(slug=slug)
    refused = _too_often(request, slug)
    if refused is not None:
        return refused
    services.follow_city(user=request.user, city=place)
    messages.success(
        request,
        _("We'll email you when a new event in %(city)s is announced.")
        % {"city": place.name},
    )
    return redirect("cities:city", slug=slug)


@require_POST
@login_required
def unfollow(request, slug):
    place = selectors.city(slug=slug)
    refused = _too_often(request, slug)
    if refused is not None:
        return refused
    services.unfollow_city(user=request.user, city_slug=slug)
    messages.success(request, _("No more news of %(city)s.") % {"city": place.name})
    return redirect("cities:city", slug=slug)


@csrf_exempt  # the signed token is the credential; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "POST"])
def unfollow_link(request, token):
    """The email's one-click "stop news of <city>": GET asks, POST does it."""
    try:
        user_pk, city_slug = links.read(links.UNFOLLOW_CITY, token)
        user = User.objects.get(pk=user_pk)
    except signing.SignatureExpired:
        return links.invalid_link_page(request, status=410, too_old=True)
    except (signing.BadSignature, ValueError, TypeError, User.DoesNotExist):
        return links.invalid_link_page(request, status=400)
    if request.method == "POST":
        refused = _too_often(request, city_slug, user_id=user.pk)
        if refused is not None:
            return refused
        services.unfollow_city(user=user, city_slug=city_slug)
    following = CitySubscription.objects.filter(user=user, city_slug=city_slug)
    subscription = following.first()
    return render(
        request,
        "cities/unfollow.html",
        {
            "done": subscription is None,
            "city_name": subscription.city_name if subscription else "",
        },
    )


def _ics(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
def series_feed(request):
    """Every published event of the series (and cancelled ones, marked so)."""
    events = selectors.feed_events()
    return _ics(calendar.feed(events, name="Turnout"), "turnout.ics")


@require_GET
def city_feed(request, slug):
    place = selectors.city(slug=slug)
    events = selectors.feed_events(city=place)
    name = f"Turnout {place.name}"
    return _ics(calendar.feed(events, name=name), f"turnout-{slug}.ics")
