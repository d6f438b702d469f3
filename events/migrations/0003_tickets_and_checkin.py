"""Ticket codes and check-in; existing registrations each get a code of their own.

The code is added without its unique index, filled in row by row, then made unique
(a callable default in AddField would give every existing row the same code).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import events.models


def give_every_registration_a_code(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    for registration in Registration.objects.filter(ticket_code__isnull=True).only(
        "pk"
    ):
        registration.ticket_code = events.models.new_ticket_code()
        registration.save(update_fields=["ticket_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="ticket_code",
            field=models.CharField(
                editable=False, max_length=12, null=True, verbose_name="ticket code"
            ),
        ),
        migrations.RunPython(give_every_registration_a_code, migrations.RunPython.noop),
        migrations.AddField(
            model_name="registration",
            name="checked_in_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="checked in at"
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="checked_in_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="checked in by",
            ),
        ),
        migrations.AlterModelOptions(
            name="registration",
            options={
                "ordering": ["created_at", "pk"],
                "permissions": [("check_in", "Can check in attendees at the door")],
                "verbose_name": "registration",
                "verbose_name_plural": "registrations",
            },
        ),
        migrations.AlterField(
            model_name="message",
            name="kind",
            field=models.CharField(
                choices=[
                    ("confirmed", "Registration confirmed"),
                    ("waitlisted", "Joined the waitlist"),
                    ("promoted", "Promoted from the waitlist"),
                    ("cancelled", "Registration cancelled"),
                    ("event_changed", "Event changed"),
                    ("event_cancelled", "Event cancelled"),
                    ("reminder", "Reminder"),
                    ("announcement", "Announcement from the organizers"),
                    ("account", "Account email"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
    ]
