"""Subscription.confirm_version: an unsubscribe voids the confirm links sent before it.

Confirm links sent before this release carry no version and count as version 0; a subscription
that is off today starts at 1, so such a link cannot turn it back on.
"""

from django.db import migrations, models


def start_off_subscriptions_at_one(apps, schema_editor):
    Subscription = apps.get_model("maintenance", "Subscription")
    Subscription.objects.filter(unsubscribed_at__isnull=False).update(confirm_version=1)


class Migration(migrations.Migration):
    dependencies = [
        ("maintenance", "0002_exceptions_subscriptions_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="confirm_version",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(start_off_subscriptions_at_one, migrations.RunPython.noop),
    ]
