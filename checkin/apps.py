from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckinConfig(AppConfig):
    """The door: the check-in service, the volunteers' page and its admin actions."""

    name = "checkin"
    verbose_name = _("Check-in")
