"""The staff's admin: one module per area; importing them registers them."""

from django.contrib import admin

from events.admin import events, messages, registrations, series  # noqa: F401

# The admin is Turnout's, not "Django administration".
admin.site.site_header = admin.site.site_title = "Turnout"
