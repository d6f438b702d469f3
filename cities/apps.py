from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitiesConfig(AppConfig):
    """A series that spans cities: city pages and feeds, following a city, its news."""

    name = "cities"
    verbose_name = _("Cities")

    def ready(self):
        from cities import messages, privacy, services  # noqa: F401 -- services connects tell_followers

        messages.register()
        privacy.register()
