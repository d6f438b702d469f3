from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("events", "0008_copy_event_texts")]

    operations = [
        migrations.RemoveField(model_name="event", name="untranslated_description"),
        migrations.RemoveField(model_name="event", name="untranslated_title"),
    ]
