"""Let tier staff put a failed email back in the outbox queue (the admin's "Retry delivery").

The admin shows notifications read-only; the change permission grants only the retry action.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TIER_GROUPS = ["Tier 1", "Tier 2", "Tier 3"]


def grant(apps, schema_editor):
    # As in 0002: on a fresh database permissions do not exist until all migrations ran.
    app_config = apps.get_app_config("notifications")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="notifications", codename="change_notification"
    )
    for group in Group.objects.filter(name__in=TIER_GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label="notifications", codename="change_notification"
    ).first()
    if permission is not None:
        for group in Group.objects.filter(name__in=TIER_GROUPS):
            group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_tier_groups"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
