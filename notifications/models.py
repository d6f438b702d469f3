from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from notifications import kinds


class Message(models.Model):
    """One email: a row in this outbox before it is a message, and its delivery log.

    The send task moves it queued -> sending -> sent, or failed (a permanent refusal
    or too many attempts), or skipped (no longer meaningful, with the reason).
    dedupe_key is unique: the same confirmation or reminder cannot be queued twice.

    What a message says, and whether it is still worth sending, is its kind's (see
    notifications.kinds): the apps that send register their kinds. A message may be
    about an event and a registration; the outbox keeps those two references for the
    log, its filters and its cascade, and never reads them itself.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    kind = models.CharField(_("kind"), max_length=20, choices=kinds.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("recipient account"),
    )
    to_email = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("event"),
    )
    registration = models.ForeignKey(
        "events.Registration",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("registration"),
    )
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    context = models.JSONField(_("details"), default=dict, blank=True)
    resend_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resends",
        verbose_name=_("resend of"),
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"), blank=True)
    body_html = models.TextField(_("HTML"), blank=True)
    ics = models.TextField(_("calendar invitation"), blank=True)
    headers = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    enqueued_at = models.DateTimeField(_("handed to Celery"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        # The table events made before the outbox had an app of its own.
        db_table = "events_message"
        verbose_name = _("email message")
        verbose_name_plural = _("email messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["status", "enqueued_at"], name="events_mess_status_eae807_idx"
            ),
            models.Index(
                fields=["event", "kind"], name="events_mess_event_i_df8eec_idx"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.to_email}"
