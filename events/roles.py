"""The two staff roles, as groups a superuser assigns in the admin.

Event managers run events, registrations and emails, but administer no users and
cancel rather than delete. Check-in volunteers may only use the check-in page; they
need no staff status.

Created by migration events/0005_roles, and again after any migrate or flush that
left them missing (the test database is flushed between transactional tests). A
group that exists is never changed here: staff may have adjusted it.
"""

MANAGERS = "Event managers"
VOLUNTEERS = "Check-in volunteers"
MANAGED_MODELS = ("eventseries", "event", "registration", "message")


def ensure_roles(apps) -> None:
    """Creates the missing role groups with their permissions (apps: a registry)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # The outbox's Message was events' until notifications had an app of its own.
    events = Permission.objects.filter(
        content_type__app_label__in=("events", "notifications")
    )
    managers, created = Group.objects.get_or_create(name=MANAGERS)
    if created:
        managers.permissions.set(
            events.filter(content_type__model__in=MANAGED_MODELS).exclude(
                codename__startswith="delete_"
            )
        )
    volunteers, created = Group.objects.get_or_create(name=VOLUNTEERS)
    if created:
        volunteers.permissions.set(events.filter(codename="check_in"))


def ensure_roles_after_migrate(sender, apps=None, **kwargs) -> None:
    """post_migrate: runs after the permissions have been created. A flush sends
    it without the migration state's registry; the global one is then current."""
    if apps is None:
        from django.apps import apps
    ensure_roles(apps)
