from django.db import migrations, models

import events.models


class Migration(migrations.Migration):
    dependencies = [("events", "0003_tickets_and_checkin")]

    operations = [
        migrations.AlterField(
            model_name="registration",
            name="ticket_code",
            field=models.CharField(
                default=events.models.new_ticket_code,
                editable=False,
                max_length=12,
                unique=True,
                verbose_name="ticket code",
            ),
        ),
    ]
