from dataclasses import dataclass
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from config import site


@dataclass(frozen=True)
class PublicSite:
    """What allauth's email templates read as `current_site`."""

    domain: str
    name: str


def public_site() -> PublicSite:
    """Our public address (config.site), whatever Host header a request came with."""
    return PublicSite(domain=site.domain(), name="Turnout")


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        """Renders allauth's email here (it needs the request) and queues it in the
        outbox, so verification, reset and login-code emails are delivered, retried
        and logged like every other message.

        The templates get the recipient's address and our public site, as allauth's
        own send_mail gives them, and every link in them is on our public address.
        """
        from accounts.messages import queue_account_email

        ctx = {"request": self.request, "email": email, "current_site": public_site()}
        ctx.update(context)
        # The one link allauth builds with no adapter hook: the sign-up link in the
        # "no account with this address" email.
        if "signup_url" in ctx:
            ctx["signup_url"] = site.on_site(ctx["signup_url"])
        rendered = self.render_mail(template_prefix, email, ctx)
        queue_account_email(rendered, to_email=email)

    def get_reset_password_from_key_url(self, key):
        return site.on_site(super().get_reset_password_from_key_url(key))

    def send_account_already_exists_mail(self, email):
        """Tells the owner of a known address that someone tried to sign up with it
        (the page answered as for a new address), with allauth's two links (sign up,
        reset the password) on our public address."""
        self.send_mail(
            "account/email/account_already_exists",
            email,
            {
                "signup_url": site.on_site(reverse("account_signup")),
                "password_reset_url": site.on_site(reverse("account_reset_password")),
            },
        )

    def get_email_confirmation_url(self, request, emailconfirmation):
        """The verification link, carrying the page the person was heading to.

        So someone who signs up on a laptop to register for an event, then opens the
        email on a phone, still lands on that event after confirming.
        """
        url = site.on_site(
            super().get_email_confirmation_url(request, emailconfirmation)
        )
        next_url = request and (request.POST.get("next") or request.GET.get("next"))
        if next_url and url_has_allowed_host_and_scheme(
            next_url,
            allowed_hosts={public_site().domain},
            require_https=site.is_https(),
        ):
            url = f"{url}?{urlencode({'next': next_url})}"
        return url

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth keys the per-address failed-login limit by the request's Host; a
        # client could then start a fresh count by changing the Host's port.
        login = credentials.get("email", credentials.get("username", "")).lower()
        return f"{public_site().domain}:{login}"
