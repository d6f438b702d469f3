"""Each event's title and description become its translation in its own language."""

from django.db import migrations


def copy_texts(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    EventTranslation = apps.get_model("events", "EventTranslation")
    EventTranslation.objects.bulk_create(
        EventTranslation(
            master_id=event.pk,
            language_code=event.language,
            title=event.untranslated_title,
            description=event.untranslated_description,
        )
        for event in Event.objects.only(
            "pk", "language", "untranslated_title", "untranslated_description"
        )
    )


def copy_back(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    EventTranslation = apps.get_model("events", "EventTranslation")
    for event in Event.objects.all():
        own = (
            EventTranslation.objects.filter(master_id=event.pk)
            .order_by("-language_code")
            .filter(language_code=event.language)
            .first()
        ) or EventTranslation.objects.filter(master_id=event.pk).first()
        if own:
            event.untranslated_title = own.title
            event.untranslated_description = own.description
            event.save(update_fields=["untranslated_title", "untranslated_description"])


class Migration(migrations.Migration):
    dependencies = [("events", "0007_event_translations")]

    operations = [migrations.RunPython(copy_texts, copy_back)]
