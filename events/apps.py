from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self):
        from events import messages, privacy
        from events.roles import ensure_roles_after_migrate

        messages.register()
        privacy.register()
        # After auth's own handler has created the permissions the roles refer to.
        post_migrate.connect(ensure_roles_after_migrate, sender=self)
