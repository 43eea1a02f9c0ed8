from django.db import migrations, models

import sla.durations


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0010_service_phone"),
    ]

    operations = [
        migrations.AddField(
            model_name="escalationpolicy",
            name="on_call_acknowledge",
            field=models.CharField(
                blank=True,
                default="",
                max_length=20,
                validators=[sla.durations.validate_duration],
            ),
        ),
    ]
