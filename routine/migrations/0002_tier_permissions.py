"""Let every staff tier see and tick off routine items; the admin scopes which ones."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TIER_GROUPS = ["Tier 1", "Tier 2", "Tier 3"]
CODENAMES = ["view_routineitem", "change_routineitem"]


def grant(apps, schema_editor):
    # As in tickets 0002: on a fresh database permissions do not exist until all migrations ran.
    app_config = apps.get_app_config("routine")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="routine", codename__in=CODENAMES
    )
    for name in TIER_GROUPS:
        # The groups come from tickets 0002; make sure of them whatever ran first.
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="routine", codename__in=CODENAMES
    )
    for group in Group.objects.filter(name__in=TIER_GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("routine", "0001_initial"),
        ("tickets", "0002_tier_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
