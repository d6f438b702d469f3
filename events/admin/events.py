"""Series and events: the columns, filters and actions staff run the series with."""

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from parler.admin import TranslatableAdmin
from parler.forms import TranslatableModelForm

from accounts.timezones import is_timezone
from config import audit
from config.admin_guards import GuardedAdminMixin
from events import exports, selectors, services
from events import messages as event_messages
from events.admin.common import apply_each
from events.dashboard import fill_percent
from events.exceptions import EventBusy, TurnoutError
from events.forms import DuplicateEventForm, EmailAttendeesForm, ReminderOffsetsField
from events.models import (
    Event,
    EventSeries,
    Registration,
    default_reminder_offsets,
)
from events.rules import capacity_refusal
from events.templatetags.turnout import zoned
from notifications import mime
from notifications.models import Message

REGISTRATIONS_SHOWN = 200


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


def _add_model_errors(form, error: ValidationError) -> None:
    """The model's errors on the form: on their field where the form has it (the
    copy's end follows its start), else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages_ in error.message_dict.items():
        target = "starts_at" if name == "ends_at" else name
        form.add_error(target if target in form.fields else None, messages_)


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


@admin.register(Event)
class EventAdmin(GuardedAdminMixin, TranslatableAdmin):
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

    @admin.action(
        description=_("Duplicate to another city and date (as a draft)"),
        permissions=["add"],
    )
    def duplicate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Choose exactly one event to duplicate."), messages.WARNING
            )
            return None
        event = queryset.get()
        if request.POST.get("confirm") == "yes":
            form = DuplicateEventForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    copy = services.duplicate_event(
                        event=event,
                        city=data["city"],
                        country=data["country"],
                        timezone_name=data["timezone"],
                        starts_at=data["starts_at"],
                        venue_name=data["venue_name"],
                        venue_address=data["venue_address"],
                        title=data["title"],
                        by=request.user,
                    )
                except ValidationError as error:
                    _add_model_errors(form, error)
                else:
                    self.message_user(
                        request,
                        _("Draft created: %(title)s. Check it, then publish it.")
                        % {"title": copy.title},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:events_event_change", args=[copy.pk])
                    )
        else:
            form = DuplicateEventForm(
                initial={
                    "country": event.country,
                    "timezone": event.timezone,
                }
            )
        return self._action_page(
            request,
            queryset,
            "duplicate",
            _("Duplicate %(title)s") % {"title": event.title},
            form=form,
            media=self.media + form.media,
        )

    @admin.action(
        description=_("Export attendees to CSV"), permissions=["view_registrations"]
    )
    def export_attendees(self, request, queryset):
        events = list(queryset)
        audit.record(by=request.user, objects=events, message="Attendees exported.")
        name = events[0].slug if len(events) == 1 else "attendees"
        response = StreamingHttpResponse(
            exports.stream_csv(Event.objects.filter(pk__in=[e.pk for e in events])),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    @admin.action(
        description=_("Email the confirmed attendees (with a preview)"),
        permissions=["change"],
    )
    def email_attendees(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Choose exactly one event to email."), messages.WARNING
            )
            return None
        event = selectors.with_seat_counts(queryset).get()
        preview = None
        if "key" in request.POST:
            form = EmailAttendeesForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                if request.POST.get("confirm") == "yes":
                    try:
                        queued = services.email_attendees(
                            event=event,
                            subject=data["subject"],
                            body=data["body"],
                            key=data["key"],
                            by=request.user,
                        )
                    except EventBusy as error:  # the form again, its key kept
                        self.message_user(request, error.message, messages.ERROR)
                    else:
                        self.message_user(
                            request,
                            ngettext(
                                "%(count)d email queued.",
                                "%(count)d emails queued.",
                                queued,
                            )
                            % {"count": queued},
                        )
                        return None
                sample = self._sample_announcement(event, data)
                preview = event_messages.render_about_event(sample)
                preview.html = mime.html_for_browser(
                    preview.html, event_messages.ticket_images(sample, preview.html)
                )
        else:
            form = EmailAttendeesForm(initial={"key": uuid.uuid4().hex})
        return self._action_page(
            request,
            queryset,
            "email_attendees",
            _("Email the confirmed attendees of %(title)s") % {"title": event.title},
            form=form,
            event=event,
            preview=preview,
        )

    def _sample_announcement(self, event, data) -> Message:
        """An unsaved announcement to the first confirmed attendee (or a sample)."""
        registration = (
            Registration.objects.filter(event=event, user__isnull=False)
            .confirmed()
            .select_related("user")
            .first()
        )
        if registration is None:
            sample = event_messages.sample_messages()[0]
            registration = sample.registration
            registration.event = event
        return Message(
            kind=event_messages.Kind.ANNOUNCEMENT,
            user=registration.user,
            to_email=registration.user.email,
            event=event,
            registration=registration,
            language=registration.user.language,
            context={"subject": data["subject"], "body": data["body"]},
        )

    def _action_page(self, request, queryset, action, title, **context):
        return TemplateResponse(
            request,
            "admin/events/event/action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "action": action,
                "queryset": queryset,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                # "Select all N" (every page): the next step acts on all of them too.
                "select_across": request.POST.get("select_across", "0") == "1",
                **context,
            },
        )

    def has_view_registrations_permission(self, request):
        return request.user.has_perm("events.view_registration")
