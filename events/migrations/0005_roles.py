"""The staff roles: "Event managers" and "Check-in volunteers" (see events/roles.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from events.roles import MANAGERS, VOLUNTEERS, ensure_roles


def create_roles(apps, schema_editor):
    # Permissions are otherwise created after all migrations have run.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_roles(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[MANAGERS, VOLUNTEERS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0004_ticket_code_unique"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
