"""Event titles and descriptions move to a translations table (django-parler)."""

import accounts.models
import django.db.models.deletion
import parler.fields
import parler.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_constraint_messages"),
    ]

    operations = [
        # Out of the way of the translated fields of the same names (parler refuses
        # a model field named like a translated one); removed in 0009.
        migrations.RenameField("event", "title", "untranslated_title"),
        migrations.RenameField("event", "description", "untranslated_description"),
        migrations.AddField(
            model_name="event",
            name="language",
            field=models.CharField(
                choices=accounts.models.language_choices,
                default="en",
                help_text="The language it is held in; readers whose language has no translation see the title and description in this one.",
                max_length=10,
                verbose_name="event's language",
            ),
        ),
        migrations.CreateModel(
            name="EventTranslation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "language_code",
                    models.CharField(
                        db_index=True, max_length=15, verbose_name="Language"
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                (
                    "description",
                    models.TextField(blank=True, verbose_name="description"),
                ),
                (
                    "master",
                    parler.fields.TranslationsForeignKey(
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="translations",
                        to="events.event",
                    ),
                ),
            ],
            options={
                "verbose_name": "event Translation",
                "db_table": "events_event_translation",
                "db_tablespace": "",
                "managed": True,
                "default_permissions": (),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("language_code", "master"),
                        name="events_event_translation_uniq_lang",
                    )
                ],
            },
            bases=(parler.models.TranslatedFieldsModelMixin, models.Model),
        ),
    ]
