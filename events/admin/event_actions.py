"""The event actions that open a page of their own: duplicate to another city,
export the attendees, email the confirmed attendees (with a preview)."""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events import exports, selectors, services
from events import messages as event_messages
from events.admin.common import add_model_errors
from events.exceptions import EventBusy
from events.forms import DuplicateEventForm, EmailAttendeesForm
from events.models import Registration
from notifications import mime
from notifications.models import Message


class EventPageActions:
    """Mixed into EventAdmin: each action validates its form, calls one service."""

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
                    add_model_errors(form, error)
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
        name = events[0].slug if len(events) == 1 else "attendees"
        response = StreamingHttpResponse(
            exports.export_attendees(events=events, by=request.user),
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
