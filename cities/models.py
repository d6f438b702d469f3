from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CitySubscription(models.Model):
    """ "Tell me when Turnout comes to <city>": one per user and city.

    Cities are named by events (their city field); city_slug is slugify(city), the
    key of the city's page, /cities/<city_slug>/.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="city_subscriptions",
        verbose_name=_("user"),
    )
    city_slug = models.SlugField(_("city"), max_length=100)
    city_name = models.CharField(_("city name"), max_length=100)
    created_at = models.DateTimeField(_("subscribed at"), auto_now_add=True)

    class Meta:
        # The table events made before cities had an app of its own.
        db_table = "events_citysubscription"
        verbose_name = _("city subscription")
        verbose_name_plural = _("city subscriptions")
        ordering = ["city_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "city_slug"], name="city_subscription_once"
            )
        ]

    def __str__(self):
        return f"{self.user} → {self.city_name}"
