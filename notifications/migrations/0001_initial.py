# Message, moved from the events app: the same table (events_message), indexes and
# rows, so no data is copied; its content type (and so its permissions and the admin
# history) is renamed to this app.

import django.db.models.deletion
import notifications.kinds
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if not ContentType.objects.filter(app_label='notifications', model='message').exists():
        ContentType.objects.filter(app_label='events', model='message').update(
            app_label='notifications'
        )


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    ContentType.objects.filter(app_label='notifications', model='message').update(
        app_label='events'
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('events', '0016_message_to_notifications'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Message',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=notifications.kinds.choices, max_length=20, verbose_name='kind')),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='queued', max_length=10, verbose_name='status')),
                        ('to_email', models.EmailField(max_length=254, verbose_name='to')),
                        ('language', models.CharField(blank=True, max_length=10, verbose_name='language')),
                        ('dedupe_key', models.CharField(blank=True, max_length=200, null=True, unique=True)),
                        ('context', models.JSONField(blank=True, default=dict, verbose_name='details')),
                        ('subject', models.CharField(blank=True, max_length=300, verbose_name='subject')),
                        ('body_text', models.TextField(blank=True, verbose_name='text')),
                        ('body_html', models.TextField(blank=True, verbose_name='HTML')),
                        ('ics', models.TextField(blank=True, verbose_name='calendar invitation')),
                        ('headers', models.JSONField(blank=True, default=dict)),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('last_error', models.TextField(blank=True, verbose_name='last error')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('rendered_at', models.DateTimeField(blank=True, null=True, verbose_name='rendered')),
                        ('enqueued_at', models.DateTimeField(blank=True, null=True, verbose_name='handed to Celery')),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                        ('sending_since', models.DateTimeField(blank=True, null=True, verbose_name='sending since')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                        ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='events.event', verbose_name='event')),
                        ('registration', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='events.registration', verbose_name='registration')),
                        ('resend_of', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='resends', to='notifications.message', verbose_name='resend of')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to=settings.AUTH_USER_MODEL, verbose_name='recipient account')),
                    ],
                    options={
                        'verbose_name': 'email message',
                        'verbose_name_plural': 'email messages',
                        'db_table': 'events_message',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(fields=['status', 'enqueued_at'], name='events_mess_status_eae807_idx'), models.Index(fields=['event', 'kind'], name='events_mess_event_i_df8eec_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
