"""The door's admin actions on registrations: check in, undo a check-in.

The registrations' admin is events'; check-in adds its two actions to it, so the
events app knows nothing of the door.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from checkin import services
from checkin.views import CHECK_IN_PERMISSION
from events.admin.registrations import RegistrationAdmin
from events.models import Registration


class RegistrationAdminWithCheckIn(RegistrationAdmin):
    actions = ["check_in", "undo_check_in", *RegistrationAdmin.actions]

    def has_check_in_permission(self, request):
        return request.user.has_perm(CHECK_IN_PERMISSION)

    @admin.action(description=_("Check in"), permissions=["check_in"])
    def check_in(self, request, queryset):
        self.each(
            request,
            queryset,
            lambda r: services.check_in(
                event=r.event, code=r.ticket_code, by=request.user
            ),
            ngettext_lazy(
                "%(count)d attendee checked in.",
                "%(count)d attendees checked in.",
                "count",
            ),
        )

    @admin.action(description=_("Undo check-in"), permissions=["check_in"])
    def undo_check_in(self, request, queryset):
        self.each(
            request,
            queryset.filter(checked_in_at__isnull=False),
            lambda r: services.undo_check_in(registration=r, by=request.user),
            ngettext_lazy(
                "%(count)d check-in undone.", "%(count)d check-ins undone.", "count"
            ),
        )


admin.site.unregister(Registration)
admin.site.register(Registration, RegistrationAdminWithCheckIn)
