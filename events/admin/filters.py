"""The events list's filters: by country, city and when."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import Event


class CountryFilter(admin.SimpleListFilter):
    """The countries the series has been to, not every country in the world."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = Event.objects.order_by().values_list("country", flat=True).distinct()
        countries = [Event(country=code).country for code in codes]
        return sorted(((c.code, c.name) for c in countries), key=lambda c: c[1])

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


class CityFilter(admin.SimpleListFilter):
    title = _("city")
    parameter_name = "city"

    def lookups(self, request, model_admin):
        cities = Event.objects.order_by("city").values_list("city", flat=True)
        return [(city, city) for city in cities.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(city=self.value()) if self.value() else queryset


class WhenFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(ends_at__gt=now)
        if self.value() == "past":
            return queryset.filter(ends_at__lte=now)
        return queryset
