from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The outbox: message rows, delivery, upkeep, MIME, signed links. The kinds of
    message are registered by the apps that send them (notifications.kinds)."""

    name = "notifications"
    verbose_name = _("Email")
