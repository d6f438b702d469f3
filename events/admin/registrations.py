"""Registrations: searched, filtered and changed only through the services."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from config.admin_guards import GuardedAdminMixin
from events import selectors, services
from events.admin.common import apply_each
from events.models import Event, Registration


class EventFilter(admin.SimpleListFilter):
    """By event, latest first, titles fetched in one query (not one per event)."""

    title = _("event")
    parameter_name = "event__id__exact"

    def lookups(self, request, model_admin):
        events = Event.objects.prefetch_related("translations").order_by("-starts_at")
        return [(str(event.pk), str(event)) for event in events]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdigit() and int(value) < 2**63):
            # Django answers this with the list unfiltered and a notice (?e=1).
            raise IncorrectLookupParameters(f"not an event id: {value!r}")
        return queryset.filter(event_id=int(value))


class CheckedInFilter(admin.SimpleListFilter):
    title = _("checked in")
    parameter_name = "checked_in"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(checked_in_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(checked_in_at__isnull=True)
        return queryset


@admin.register(Registration)
class RegistrationAdmin(GuardedAdminMixin, admin.ModelAdmin):
    """Registrations change only through the services: no adding, editing or deleting."""

    list_display = (
        "email",
        "name",
        "event",
        "status",
        "position",
        "created_at",
        "checked_in_at",
    )
    list_filter = ("status", CheckedInFilter, EventFilter)
    search_fields = ("user__email", "user__name", "ticket_code")
    list_select_related = ("user", "event")
    readonly_fields = (
        "event",
        "user",
        "status",
        "position",
        "created_at",
        "waitlisted_at",
        "confirmed_at",
        "cancelled_at",
        "ticket_code",
        "checked_in_at",
        "checked_in_by",
    )
    fields = readonly_fields
    actions = [
        "promote",
        "resend_confirmation",
        "cancel_registrations",
    ]

    def get_queryset(self, request):
        return selectors.with_waitlist_position(
            super().get_queryset(request).prefetch_related("event__translations")
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, registration):
        # Erased (account deleted, or the retention purge): the row stays, anonymous.
        return registration.user.email if registration.user else "-"

    @admin.display(description=_("name"), ordering="user__name")
    def name(self, registration):
        return (
            registration.user.get_full_name() if registration.user else _("anonymous")
        )

    @admin.display(description=_("waitlist position"), ordering="waitlisted_at")
    def position(self, registration):
        return registration.waitlist_position or "-"

    def each(self, request, queryset, act, done):
        """Applies act to each registration, reporting how many it was done for."""
        apply_each(self, request, queryset.select_related("event", "user"), act, done)

    @admin.action(
        description=_("Promote from the waitlist (adds a seat when full)"),
        permissions=["change"],
    )
    def promote(self, request, queryset):
        self.each(
            request,
            queryset.order_by("waitlisted_at", "pk"),
            lambda r: services.promote(registration=r, by=request.user),
            ngettext_lazy(
                "%(count)d person promoted and told.",
                "%(count)d people promoted and told.",
                "count",
            ),
        )

    @admin.action(description=_("Resend the confirmation"), permissions=["change"])
    def resend_confirmation(self, request, queryset):
        self.each(
            request,
            queryset,
            lambda r: services.resend_confirmation(registration=r, by=request.user),
            ngettext_lazy(
                "%(count)d confirmation queued again.",
                "%(count)d confirmations queued again.",
                "count",
            ),
        )

    @admin.action(
        description=_("Cancel selected registrations (promotes from the waitlist)"),
        permissions=["change"],
    )
    def cancel_registrations(self, request, queryset):
        self.each(
            request,
            queryset,
            lambda r: services.cancel_registration(registration=r, by=request.user),
            ngettext_lazy(
                "%(count)d registration cancelled.",
                "%(count)d registrations cancelled.",
                "count",
            ),
        )
