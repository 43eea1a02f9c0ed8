"""Tier 2 and Tier 3 may publish incidents; Tier 1 opens and works them as drafts.

As 0003: on a fresh database the permission does not exist until all migrations ran, so it is
created here first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PUBLISHERS = ["Tier 2", "Tier 3"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("incidents")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="incidents", codename="publish_incident"
    )
    for name in PUBLISHERS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="incidents", codename="publish_incident"
    )
    for group in Group.objects.filter(name__in=PUBLISHERS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_publish_and_impact"),
        ("incidents", "0003_tier_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
