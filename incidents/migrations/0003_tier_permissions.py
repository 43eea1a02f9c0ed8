"""Let tier staff work incidents: open and move them, post updates, write post-mortems.

Every tier gets the same permissions (an incident is everyone's business); moving an incident
back a step is reserved to superusers by ``incidents.services``, deleting by the admin.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TIER_GROUPS = ["Tier 1", "Tier 2", "Tier 3"]
PERMISSIONS = [
    ("incident", ["view", "add", "change"]),
    ("incidentsteprecord", ["view"]),
    ("incidentupdate", ["view", "add"]),
    ("postmortem", ["view", "add", "change"]),
    ("postmortemaction", ["view", "add", "change"]),
]


def grant(apps, schema_editor):
    # As in tickets 0002: on a fresh database permissions do not exist until all migrations ran.
    app_config = apps.get_app_config("incidents")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model, actions in PERMISSIONS for action in actions]
    permissions = list(
        Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames)
    )
    for name in TIER_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="incidents")
    for group in Group.objects.filter(name__in=TIER_GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_reminders_and_status"),
        ("tickets", "0002_tier_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
