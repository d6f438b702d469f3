from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from django.utils.http import url_has_allowed_host_and_scheme


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        """Renders allauth's email here (it needs the request) and queues it in the
        outbox, so verification, reset and login-code emails are delivered, retried
        and logged like every other message."""
        from events import outbox

        rendered = self.render_mail(template_prefix, email, context)
        outbox.queue_account_email(rendered, to_email=email)

    def get_email_confirmation_url(self, request, emailconfirmation):
        """The verification link, carrying the page the person was heading to.

        So someone who signs up on a laptop to register for an event, then opens the
        email on a phone, still lands on that event after confirming.
        """
        url = super().get_email_confirmation_url(request, emailconfirmation)
        next_url = request and (request.POST.get("next") or request.GET.get("next"))
        if next_url and url_has_allowed_host_and_scheme(
            next_url,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        ):
            url = f"{url}?{urlencode({'next': next_url})}"
        return url
