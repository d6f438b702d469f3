"""The outbox and delivery log: the admin of every message, of any kind."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin_guards import GuardedAdminMixin
from notifications import kinds, mime, outbox
from notifications.models import Message


@admin.register(Message)
class MessageAdmin(GuardedAdminMixin, admin.ModelAdmin):
    """The outbox and delivery log: read-only; staff can resend and preview."""

    list_display = (
        "to_email",
        "kind",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("to_email", "subject", "user__name")
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
    change_list_template = "admin/notifications/message/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is not None and kinds.get(obj.kind).credentials:
            # Reset links and login codes: not for any staff member's eyes.
            return [f for f in self.fields if f not in ("html_preview", "body_text")]
        return self.fields

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_message")

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
            mime.html_for_browser(
                message.body_html,
                kinds.get(message.kind).inline_images(message, message.body_html),
            ),
            _("HTML part"),
        )

    @admin.action(
        description=_("Resend selected messages (rendered anew)"),
        permissions=["resend"],
    )
    def resend(self, request, queryset):
        count = 0
        for message in queryset.select_related("user"):
            if kinds.get(message.kind).credentials:
                self.message_user(
                    request,
                    _(
                        "Account emails are not resent: ask %(email)s to request a new one."
                    )
                    % {"email": message.to_email},
                    level=messages.WARNING,
                )
                continue
            outbox.resend(message, by=request.user)
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
            path("preview/", preview, name="notifications_message_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """Every template rendered with sample data (no rows are read or written)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        previews = []
        for kind in kinds.registered():
            for sample in kind.samples() if kind.samples else []:
                rendered = kind.render(sample)
                images = kind.inline_images(sample, rendered.html)
                rendered.html = mime.html_for_browser(rendered.html, images)
                previews.append((sample, rendered))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Email previews"),
            "opts": self.model._meta,
            "previews": previews,
        }
        return TemplateResponse(
            request, "admin/notifications/message/preview.html", context
        )
