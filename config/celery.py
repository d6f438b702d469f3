"""The Celery application. Its settings live in Django settings under CELERY_*."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("turnout")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
