from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.timezones import is_timezone
from events import selectors, services
from events.exceptions import CapacityError, RegistrationError
from events.models import Event, EventSeries, Registration
from events.rules import capacity_refusal
from events.templatetags.turnout import zoned


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
            refusal = capacity_refusal(capacity=capacity, confirmed=confirmed)
            if refusal is not None:
                raise forms.ValidationError(refusal.message, code="capacity")
        return capacity


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    form = EventAdminForm
    list_display = (
        "title",
        "city",
        "local_start",
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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Shows and reads the event's times in its own zone (the one being submitted,
        else the saved one), so 18:00 typed for Tokyo means 18:00 in Tokyo."""
        zone = request.POST.get("timezone", "")
        if not is_timezone(zone):
            event = self.get_object(request, object_id) if object_id else None
            zone = event.timezone if event else "UTC"
        with timezone.override(zone):
            return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("starts (local time)"), ordering="starts_at")
    def local_start(self, event):
        return zoned(event.starts_at, event.timezone)

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, event):
        return event.confirmed_count

    @admin.display(description=_("waitlisted"), ordering="waitlisted_count")
    def waitlisted(self, event):
        return event.waitlisted_count

    def save_model(self, request, obj, form, change):
        """Saves the event; capacity is only ever written by set_capacity, under its lock."""
        if not change:
            obj.save()
            return
        other_fields = [
            f.name
            for f in obj._meta.concrete_fields
            if f.name not in ("id", "capacity")
        ]
        obj.save(update_fields=other_fields)
        if "capacity" in form.changed_data:
            try:
                services.set_capacity(event=obj, capacity=form.cleaned_data["capacity"])
            except CapacityError as error:
                messages.error(request, error.message)
        obj.refresh_from_db(fields=["capacity"])


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
        cancelled = 0
        for registration in queryset.select_related("event", "user"):
            try:
                services.cancel_registration(registration=registration)
            except RegistrationError as error:
                self.message_user(
                    request, f"{registration}: {error.message}", level=messages.ERROR
                )
            else:
                cancelled += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d registration cancelled.",
                "%(count)d registrations cancelled.",
                cancelled,
            )
            % {"count": cancelled},
        )
