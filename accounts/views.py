import json

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import privacy, services
from accounts.forms import ProfileForm
from accounts.middleware import SESSION_TIMEZONE
from accounts.models import User
from accounts.services import stop_reminders, update_profile
from accounts.timezones import is_timezone
from notifications import links


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        update_profile(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your settings are saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@require_POST  # a POST with the CSRF token: no link on another site can start it
@login_required
@never_cache
def download_data(request):
    """Download my data: everything Turnout holds about the signed-in person, as
    one JSON file (accounts.privacy.export)."""
    now = timezone.now()
    data = privacy.export(user=request.user, now=now)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    filename = f"turnout-my-data-{now:%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
@reauthentication_required  # the password (or a code, or 2FA) again, first
@never_cache
def delete_account(request):
    """Delete my account: GET says what will happen, POST does it
    (accounts.privacy.delete_account), signs the person out and says goodbye."""
    if request.method == "POST":
        try:
            privacy.delete_account(user=request.user)
        except privacy.Busy as error:  # nothing was deleted: one transaction
            messages.error(request, str(error))
            return redirect("accounts:delete_account")
        logout(request)
        return redirect("accounts:goodbye")
    plan = privacy.deletion_plan(user=request.user)
    return render(request, "accounts/delete_account.html", {"plan": plan})


@require_GET
def goodbye(request):
    return render(request, "accounts/goodbye.html")


@csrf_exempt  # the signed token is the credential; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """Stops reminder emails: GET asks, POST (a button, or a mail client's
    one-click List-Unsubscribe-Post) does it. No login needed."""
    try:
        pk = links.read(links.STOP_REMINDERS, token)
    except signing.SignatureExpired:
        return links.invalid_link_page(request, status=410, too_old=True)
    except signing.BadSignature:
        return links.invalid_link_page(request, status=400)
    user = User.objects.filter(pk=pk).first()
    if user is None:
        return links.invalid_link_page(request, status=400)
    if request.method == "POST":
        stop_reminders(user=user)
    return render(
        request,
        "accounts/unsubscribe.html",
        {"done": request.method == "POST" or not user.email_reminders},
    )


def _next_url(request) -> str:
    """The page to go back to: a path on this site (as the forms send it), else "/".

    Anything else (another host, a relative "-1", words) is not a page of ours.
    """
    target = request.POST.get("next", "")
    safe = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "/"


@require_http_methods(["POST"])
def set_language(request):
    """The language switcher: Django's set_language (cookie, for every visitor),
    and for a signed-in reader the profile too, so emails follow."""
    language = request.POST.get("language", "")
    if language not in {code for code, _name in settings.LANGUAGES}:
        return render(request, "400.html", status=400)
    response = i18n.set_language(request)
    if request.user.is_authenticated:
        services.set_language(user=request.user, language=language)
    return response


@require_http_methods(["POST"])
def set_timezone(request):
    """Shows times in the zone the browser detected, once the reader accepts it:
    saved to the profile when signed in, else for this session."""
    zone = request.POST.get("timezone", "")
    if not is_timezone(zone):
        return render(request, "400.html", status=400)
    if request.user.is_authenticated:
        services.set_timezone(user=request.user, timezone=zone)
    else:
        request.session[SESSION_TIMEZONE] = zone
    messages.success(
        request, _("Times are now also shown in %(zone)s.") % {"zone": zone}
    )
    # Not redirect(): it would try the text as a URL pattern's name first.
    return HttpResponseRedirect(_next_url(request))
