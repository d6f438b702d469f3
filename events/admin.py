from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.timezones import is_timezone
from events import emails, outbox, selectors, services
from events.exceptions import CapacityError, RegistrationError
from events.forms import ReminderOffsetsField
from events.models import Event, EventSeries, Message, Registration
from events.rules import capacity_refusal
from events.templatetags.turnout import zoned


@admin.register(EventSeries)
class EventSeriesAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "home_city")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class EventAdminForm(forms.ModelForm):
    reminder_offsets = ReminderOffsetsField(label=_("Reminders (hours before)"))

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
        """Saves the event. Capacity, time and venue, and cancelling go through their
        services (under the event's lock, telling attendees); the rest is saved here."""
        if not change:
            obj.save()
            return
        through_services = {"id", "capacity", "sequence", *services.DETAIL_FIELDS}
        cancelling = (
            "status" in form.changed_data
            and form.cleaned_data["status"] == Event.Status.CANCELLED
        )
        if cancelling:
            through_services.add("status")
        other_fields = [
            f.name for f in obj._meta.concrete_fields if f.name not in through_services
        ]
        obj.save(update_fields=other_fields)
        details = {
            name: form.cleaned_data[name]
            for name in services.DETAIL_FIELDS
            if name in form.changed_data
        }
        if details:
            try:
                services.update_event_details(event=obj, **details)
            except ValidationError as error:
                messages.error(request, "; ".join(error.messages))
            else:
                messages.info(request, _("Attendees are being told about the change."))
        if "capacity" in form.changed_data:
            try:
                services.set_capacity(event=obj, capacity=form.cleaned_data["capacity"])
            except CapacityError as error:
                messages.error(request, error.message)
        if cancelling:
            services.cancel_event(event=obj)
            messages.info(
                request, _("The event is cancelled; attendees are being told.")
            )
        obj.refresh_from_db()


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


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox and delivery log: read-only; staff can resend and preview."""

    list_display = (
        "to_email",
        "kind",
        "event",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "kind", "event")
    search_fields = ("to_email", "subject", "user__name")
    list_select_related = ("event",)
    date_hierarchy = "created_at"
    actions = ["resend"]
    fields = (
        "kind",
        "status",
        "to_email",
        "user",
        "language",
        "event",
        "registration",
        "subject",
        "attempts",
        "last_error",
        "created_at",
        "enqueued_at",
        "next_attempt_at",
        "sending_since",
        "sent_at",
        "resend_of",
        "html_preview",
        "body_text",
        "ics",
    )
    readonly_fields = fields
    change_list_template = "admin/events/message/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is not None and obj.kind == Message.Kind.ACCOUNT:
            # Reset links and login codes: not for any staff member's eyes.
            return [f for f in self.fields if f not in ("html_preview", "body_text")]
        return self.fields

    def has_resend_permission(self, request):
        return request.user.has_perm("events.change_message")

    @admin.display(description=_("last error"))
    def short_error(self, message):
        return message.last_error[:80]

    @admin.display(description=_("HTML"))
    def html_preview(self, message):
        if not message.body_html:
            return "-"
        return format_html(
            '<iframe sandbox srcdoc="{}" title="{}" style="width:100%;max-width:640px;'
            'height:480px;border:1px solid #ccc;"></iframe>',
            message.body_html,
            _("HTML part"),
        )

    @admin.action(
        description=_("Resend selected messages (rendered anew)"),
        permissions=["resend"],
    )
    def resend(self, request, queryset):
        count = 0
        for message in queryset.select_related("user", "event", "registration"):
            if message.kind == Message.Kind.ACCOUNT:
                self.message_user(
                    request,
                    _(
                        "Account emails are not resent: ask %(email)s to request a new one."
                    )
                    % {"email": message.to_email},
                    level=messages.WARNING,
                )
                continue
            outbox.resend(message)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d message queued again.",
                "%(count)d messages queued again.",
                count,
            )
            % {"count": count},
        )

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("preview/", preview, name="events_message_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """Every template rendered with sample data (no rows are read or written)."""
        previews = []
        for sample in emails.sample_messages():
            previews.append((sample, emails.render(sample)))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Email previews"),
            "opts": self.model._meta,
            "previews": previews,
        }
        return TemplateResponse(request, "admin/events/message/preview.html", context)
