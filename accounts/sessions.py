"""Where signed-in sessions live (settings.SESSION_ENGINE)."""

from importlib import import_module

from django.conf import settings


def session_store():
    """The SessionStore class of settings.SESSION_ENGINE."""
    return import_module(settings.SESSION_ENGINE).SessionStore
