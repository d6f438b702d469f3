"""Who follows which city."""

from django.contrib import admin

from cities.models import CitySubscription
from config.admin_guards import GuardedAdminMixin


@admin.register(CitySubscription)
class CitySubscriptionAdmin(GuardedAdminMixin, admin.ModelAdmin):
    """Who follows which city; people subscribe and unsubscribe themselves."""

    list_display = ("user", "city_name", "created_at")
    list_filter = ("city_name",)
    search_fields = ("user__email", "city_name")
    list_select_related = ("user",)
    readonly_fields = ("user", "city_slug", "city_name", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
