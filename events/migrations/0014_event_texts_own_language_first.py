"""An event's texts: the reader's language, else English, else the event's own
(events.models.Event). The translations are read own language first; no change
to the tables."""

import events.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0013_registration_user_set_null'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='eventtranslation',
            options={'default_permissions': (), 'managed': True, 'ordering': [models.Case(models.When(language_code=models.F('master__language'), then=models.Value(0)), default=models.Value(1)), 'language_code'], 'verbose_name': 'event Translation'},
        ),
        migrations.AlterField(
            model_name='event',
            name='language',
            field=models.CharField(choices=events.models.language_choices, default='en', help_text='The language it is held in. Readers see the title and description in their language where it has a translation, else in English, else in this one.', max_length=10, verbose_name="event's language"),
        ),
    ]
