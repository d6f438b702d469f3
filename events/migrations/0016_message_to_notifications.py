# The outbox's Message moved to the notifications app; the table stays where it is
# (notifications 0001).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0015_citysubscription_to_cities'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Message')],
            database_operations=[],
        ),
    ]
