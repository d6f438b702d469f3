from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.forms import ProfileForm
from accounts.models import User
from accounts.services import UNSUBSCRIBE_SALT, stop_reminders, update_profile


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        update_profile(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your settings are saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@csrf_exempt  # the signed token is the credential; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """Stops reminder emails: GET asks, POST (a button, or a mail client's
    one-click List-Unsubscribe-Post) does it. No login needed."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return render(request, "events/link_invalid.html", status=400)
    user = User.objects.filter(pk=pk).first()
    if user is None:
        return render(request, "events/link_invalid.html", status=400)
    if request.method == "POST":
        stop_reminders(user=user)
    return render(
        request,
        "accounts/unsubscribe.html",
        {"done": request.method == "POST" or not user.email_reminders},
    )
