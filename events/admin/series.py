"""The series: its events, counted in one query."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.admin_guards import GuardedAdminMixin
from events.models import EventSeries


@admin.register(EventSeries)
class EventSeriesAdmin(GuardedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "home_city", "event_count", "upcoming_count")
    search_fields = ("name", "home_city")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                event_total=Count("events"),
                upcoming_total=Count(
                    "events", filter=Q(events__ends_at__gt=timezone.now())
                ),
            )
        )

    @admin.display(description=_("events"), ordering="event_total")
    def event_count(self, series):
        return series.event_total

    @admin.display(description=_("upcoming"), ordering="upcoming_total")
    def upcoming_count(self, series):
        return series.upcoming_total
