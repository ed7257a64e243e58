from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('syncs', '0016_outbound_notifications_and_triggers'),
    ]

    operations = [
        migrations.AddField(
            model_name='syncrun',
            name='reading_finished_at',
            field=models.DateTimeField(blank=True, help_text='When the run had read and planned everything: the workers helping it send stop once nothing is left.', null=True),
        ),
    ]
