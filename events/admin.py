from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events import selectors, services
from events.exceptions import CapacityError
from events.models import Event, EventSeries, Registration


@admin.register(EventSeries)
class EventSeriesAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "home_city")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class EventAdminForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = "__all__"  # noqa: DJ007 -- the ModelAdmin chooses what is shown

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk:
            confirmed = self.instance.registrations.confirmed().count()
            if capacity < confirmed:
                raise forms.ValidationError(
                    ngettext(
                        "%(count)d person is already confirmed, so capacity cannot go "
                        "below %(count)d. Cancel registrations first.",
                        "%(count)d people are already confirmed, so capacity cannot go "
                        "below %(count)d. Cancel registrations first.",
                        confirmed,
                    ),
                    params={"count": confirmed},
                    code="below_confirmed",
                )
        return capacity


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    form = EventAdminForm
    list_display = (
        "title",
        "city",
        "starts_at",
        "status",
        "capacity",
        "confirmed",
        "waitlisted",
    )
    list_filter = ("status", "series", "country")
    search_fields = ("title", "city", "venue_name")
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "starts_at"
    list_select_related = ("series",)

    def get_queryset(self, request):
        return selectors.with_seat_counts(super().get_queryset(request))

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, event):
        return event.confirmed_count

    @admin.display(description=_("waitlisted"), ordering="waitlisted_count")
    def waitlisted(self, event):
        return event.waitlisted_count

    def save_model(self, request, obj, form, change):
        """Saves the event; a changed capacity goes through set_capacity, under its lock."""
        if not (change and "capacity" in form.changed_data):
            obj.save()
            return
        other_fields = [
            f.name
            for f in obj._meta.concrete_fields
            if f.name not in ("id", "capacity")
        ]
        obj.save(update_fields=other_fields)
        try:
            services.set_capacity(event=obj, capacity=form.cleaned_data["capacity"])
        except CapacityError as error:
            obj.refresh_from_db(fields=["capacity"])
            messages.error(request, error.message)


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Registrations change only through the services: no adding, editing or deleting."""

    list_display = (
        "user",
        "event",
        "status",
        "created_at",
        "waitlisted_at",
        "confirmed_at",
    )
    list_filter = ("status", "event")
    search_fields = ("user__email", "user__name", "event__title")
    list_select_related = ("user", "event")
    readonly_fields = (
        "event",
        "user",
        "status",
        "created_at",
        "waitlisted_at",
        "confirmed_at",
        "cancelled_at",
    )
    actions = ["cancel_registrations"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description=_("Cancel selected registrations (promotes from the waitlist)")
    )
    def cancel_registrations(self, request, queryset):
        for registration in queryset:
            services.cancel_registration(registration=registration)
        self.message_user(
            request,
            ngettext(
                "%(count)d registration cancelled.",
                "%(count)d registrations cancelled.",
                len(queryset),
            )
            % {"count": len(queryset)},
        )
