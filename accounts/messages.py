"""Account emails (verification, password reset, sign-in codes): rendered by allauth
when asked for, queued in the outbox like every other message.

They hold credentials: their bodies are dropped once sent, staff never see them, and
they are never resent (the person asks for a new one). A reset asked for an address
with no account goes to that address all the same.
"""

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from accounts.models import User
from notifications import kinds, outbox
from notifications.models import Message

ACCOUNT = "account"


def queue_account_email(email, *, to_email: str) -> Message:
    """Queues an email rendered by allauth (verification, password reset, login code)."""
    html = next(
        (
            content
            for content, mime in getattr(email, "alternatives", [])
            if mime == "text/html"
        ),
        "",
    )
    is_html = getattr(email, "content_subtype", "plain") == "html"
    message = Message(
        kind=ACCOUNT,
        user=User.objects.filter(email__iexact=to_email).first(),
        to_email=to_email,
        language=translation.get_language() or "",
        subject=email.subject,
        body_text="" if is_html else email.body,
        body_html=email.body if is_html else html,
        rendered_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    with transaction.atomic():
        outbox.queue([message])
    return message


def register() -> None:
    kinds.register(
        kinds.Kind(
            name=ACCOUNT,
            label=gettext_lazy("Account email"),
            without_account=True,
            credentials=True,
        )
    )
