# City follows moved to the cities app; the table stays where it is (cities 0001).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0014_event_texts_own_language_first'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='CitySubscription')],
            database_operations=[],
        ),
    ]
