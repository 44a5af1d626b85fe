"""Outbox rows the relay can never publish are dead-lettered (ADR 20): ``dead_lettered_at``; the relay's
partial index now covers the rows still to publish, a second one the dead-lettered rows."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('eventstore', '0003_applied_version'),
    ]

    operations = [
        migrations.AddField(
            model_name='outboxmessage',
            name='dead_lettered_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('dead_lettered_at__isnull', True), ('published_at__isnull', True)),
                               fields=['position'], name='eventstore_outbox_pending'),
        ),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('dead_lettered_at__isnull', False)), fields=['position'],
                               name='eventstore_outbox_dead'),
        ),
        migrations.RemoveIndex(
            model_name='outboxmessage',
            name='eventstore_outbox_unpublished',
        ),
    ]
