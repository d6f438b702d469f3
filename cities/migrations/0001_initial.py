# CitySubscription, moved from the events app: the same table (events_citysubscription)
# and rows, so no data is copied; its content type (and so its permissions and admin
# history) is renamed to this app.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    old = ContentType.objects.filter(app_label='events', model='citysubscription')
    if not ContentType.objects.filter(app_label='cities', model='citysubscription').exists():
        old.update(app_label='cities')


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    ContentType.objects.filter(app_label='cities', model='citysubscription').update(
        app_label='events'
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('events', '0015_citysubscription_to_cities'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CitySubscription',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('city_slug', models.SlugField(max_length=100, verbose_name='city')),
                        ('city_name', models.CharField(max_length=100, verbose_name='city name')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='subscribed at')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='city_subscriptions', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                    ],
                    options={
                        'verbose_name': 'city subscription',
                        'verbose_name_plural': 'city subscriptions',
                        'db_table': 'events_citysubscription',
                        'ordering': ['city_name', 'pk'],
                        'constraints': [models.UniqueConstraint(fields=('user', 'city_slug'), name='city_subscription_once')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
