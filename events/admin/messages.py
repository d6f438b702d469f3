"""The delivery log as events' staff read it: each message's event, and a filter by
event (notifications' own admin knows no events)."""

from django.contrib import admin

from events.admin.registrations import EventFilter
from notifications.admin import MessageAdmin
from notifications.models import Message


class EventMessageAdmin(MessageAdmin):
    list_display = (
        *MessageAdmin.list_display[:2],
        "event",
        *MessageAdmin.list_display[2:],
    )
    list_filter = (*MessageAdmin.list_filter, EventFilter)
    list_select_related = ("event",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("event__translations")


admin.site.unregister(Message)
admin.site.register(Message, EventMessageAdmin)
