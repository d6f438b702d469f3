"""Series and events: the columns, filters and actions staff run the series with."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from parler.admin import TranslatableAdmin
from parler.forms import TranslatableModelForm

from accounts.timezones import is_timezone
from config.admin_guards import GuardedAdminMixin
from events import selectors, services
from events.admin.common import apply_each
from events.admin.event_actions import EventPageActions
from events.admin.filters import CityFilter, CountryFilter, WhenFilter
from events.dashboard import fill_percent
from events.exceptions import EventBusy, TurnoutError
from events.forms import ReminderOffsetsField
from events.models import (
    Event,
    default_reminder_offsets,
)
from events.rules import capacity_refusal
from events.templatetags.turnout import zoned

REGISTRATIONS_SHOWN = 200


class EventAdminForm(TranslatableModelForm):
    # A declared field takes no default from the model: a new event's form would
    # show (and submit) no reminders at all.
    reminder_offsets = ReminderOffsetsField(
        label=_("Reminders (hours before)"), initial=default_reminder_offsets
    )

    class Meta:
        model = Event
        fields = "__all__"  # noqa: DJ007 -- the ModelAdmin chooses what is shown

    def clean_status(self):
        status = self.cleaned_data["status"]
        was = self.instance.status if self.instance.pk else None
        if was == Event.Status.CANCELLED and status != Event.Status.CANCELLED:
            raise forms.ValidationError(
                _(
                    "A cancelled event stays cancelled: its attendees were told. "
                    "Duplicate it to hold it again."
                ),
                code="cancelled",
            )
        return status

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk:
            confirmed = self.instance.registrations.confirmed().count()
            refusal = capacity_refusal(capacity=capacity, confirmed=confirmed)
            if refusal is not None:
                raise forms.ValidationError(refusal.message, code="capacity")
        return capacity


@admin.register(Event)
class EventAdmin(EventPageActions, GuardedAdminMixin, TranslatableAdmin):
    form = EventAdminForm
    list_display = (
        "title",
        "city",
        "local_start",
        "status",
        "capacity",
        "confirmed",
        "waitlisted",
        "checked_in",
        "fill",
    )
    list_filter = ("series", CountryFilter, CityFilter, "status", WhenFilter)
    search_fields = ("translations__title", "city", "venue_name", "slug")
    date_hierarchy = "starts_at"
    list_select_related = ("series",)
    readonly_fields = ("registrations_table",)
    actions = [
        "publish",
        "unpublish",
        "cancel_events",
        "duplicate",
        "export_attendees",
        "email_attendees",
    ]

    def get_readonly_fields(self, request, obj=None):
        """The registrations table only for those who may see registrations."""
        if request.user.has_perm("events.view_registration"):
            return self.readonly_fields
        return ()

    def get_queryset(self, request):
        return selectors.with_admin_counts(
            super().get_queryset(request).prefetch_related("translations")
        )

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("title",)}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Shows and reads the event's times in its own zone (the one being submitted,
        else the saved one), so 18:00 typed for Tokyo means 18:00 in Tokyo.

        A save that finds the event busy (EventBusy: another change holds
        it) saves nothing, as the whole save is one transaction, and says so.
        """
        zone = request.POST.get("timezone", "")
        if not is_timezone(zone):
            event = self.get_object(request, object_id) if object_id else None
            zone = event.timezone if event else "UTC"
        with timezone.override(zone):
            try:
                response = super().changeform_view(
                    request, object_id, form_url, extra_context
                )
            except EventBusy as error:
                messages.error(request, error.message)
                return HttpResponseRedirect(request.get_full_path())
            # A TemplateResponse renders later, outside this zone: render it here.
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response

    def delete_translation(self, request, object_id, language_code):
        """parler's page; a code that is no language of ours is a 404, not a query
        (a NUL in it was a 500)."""
        if language_code not in dict(settings.LANGUAGES):
            raise Http404
        return super().delete_translation(request, object_id, language_code)

    @admin.display(description=_("starts (local time)"), ordering="starts_at")
    def local_start(self, event):
        return zoned(event.starts_at, event.timezone)

    @admin.display(description=_("confirmed"), ordering="confirmed_count")
    def confirmed(self, event):
        return event.confirmed_count

    @admin.display(description=_("waitlisted"), ordering="waitlisted_count")
    def waitlisted(self, event):
        return event.waitlisted_count

    @admin.display(description=_("checked in"), ordering="checked_in_count")
    def checked_in(self, event):
        return event.checked_in_count

    @admin.display(description=_("fill"), ordering="confirmed_count")
    def fill(self, event):
        percent = fill_percent(event.confirmed_count, event.capacity)
        return format_html(
            '<meter min="0" max="100" value="{}" title="{}%">{}%</meter> {}%',
            min(percent, 100),
            percent,
            percent,
            percent,
        )

    @admin.display(description=_("registrations"))
    def registrations_table(self, event):
        """The event's registrations on its page, read-only (one query); they change
        through the actions of the registrations list, which call the services."""
        if not event.pk:
            return "-"
        return render_to_string(
            "admin/events/event/registrations.html",
            {
                "registrations": selectors.registrations_for_admin(
                    event=event, limit=REGISTRATIONS_SHOWN
                ),
                "limit": REGISTRATIONS_SHOWN,
                "list_url": reverse("admin:events_registration_changelist")
                + f"?event__id__exact={event.pk}",
                "zone": event.timezone,
            },
        )

    def save_model(self, request, obj, form, change):
        """Saves the event: a new one here (published through the service, so the
        city's followers are told); an edit through services.change_event, which
        routes each changed field to its service and records the change."""
        if not change:
            publish = obj.status == Event.Status.PUBLISHED
            if publish:
                obj.status = Event.Status.DRAFT
            obj.save()
            if publish:
                services.publish_event(event=obj, by=request.user)
            return
        try:
            done = services.change_event(
                event=obj,
                changes={name: form.cleaned_data[name] for name in form.changed_data},
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
        except EventBusy:
            raise  # changeform_view: the whole save undone, back to the form
        except TurnoutError as error:
            messages.error(request, error.message)
        else:
            if done.attendees_told:
                messages.info(request, _("Attendees are being told about the change."))
            if done.cancelled:
                messages.info(
                    request, _("The event is cancelled; attendees are being told.")
                )
        obj.refresh_from_db()

    def log_change(self, request, obj, message):
        """Nothing: services.change_event has recorded the change, by whom."""
        return None

    # Actions: each calls a service ------------------------------------------------
    def _each(self, request, queryset, service, done):
        apply_each(
            self, request, queryset, lambda e: service(event=e, by=request.user), done
        )

    @admin.action(description=_("Publish selected events"), permissions=["change"])
    def publish(self, request, queryset):
        self._each(
            request,
            queryset,
            services.publish_event,
            ngettext_lazy(
                "%(count)d event published.", "%(count)d events published.", "count"
            ),
        )

    @admin.action(
        description=_("Unpublish selected events (back to draft)"),
        permissions=["change"],
    )
    def unpublish(self, request, queryset):
        self._each(
            request,
            queryset,
            services.unpublish_event,
            ngettext_lazy(
                "%(count)d event unpublished.", "%(count)d events unpublished.", "count"
            ),
        )

    @admin.action(
        description=_("Cancel selected events (tells everyone registered)"),
        permissions=["change"],
    )
    def cancel_events(self, request, queryset):
        events = list(selectors.with_seat_counts(queryset))
        if request.POST.get("confirm") != "yes":
            return self._action_page(
                request,
                queryset,
                "cancel_events",
                _("Cancel these events?"),
                events=events,
            )
        count = 0
        for event in events:
            if event.status == Event.Status.CANCELLED:
                continue
            try:
                services.cancel_event(event=event, by=request.user)
            except EventBusy as error:
                self.message_user(request, f"{event}: {error.message}", messages.ERROR)
                continue
            count += 1
        self.message_user(
            request,
            ngettext_lazy(
                "%(count)d event cancelled; attendees are being told.",
                "%(count)d events cancelled; attendees are being told.",
                "count",
            )
            % {"count": count},
        )
        return None

    def has_view_registrations_permission(self, request):
        return request.user.has_perm("events.view_registration")
