"""Let tier staff read organisations, contracts and usage, log time and void entries.

Creating and changing organisations (members, contract) is left to superusers and to staff a
superuser grants it: a contract is a commercial matter, not a tier's.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TIER_GROUPS = ["Tier 1", "Tier 2", "Tier 3"]
PERMISSIONS = [
    ("organization", ["view"]),
    ("organizationmember", ["view"]),
    ("contractperiod", ["view"]),
    ("usagealert", ["view"]),
    # add: log time on a ticket's page; change: void an entry.
    ("timeentry", ["view", "add", "change"]),
]


def grant(apps, schema_editor):
    # As in tickets 0002: on a fresh database permissions do not exist until all migrations ran.
    app_config = apps.get_app_config("contracts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model, actions in PERMISSIONS for action in actions]
    permissions = list(
        Permission.objects.filter(content_type__app_label="contracts", codename__in=codenames)
    )
    for name in TIER_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="contracts")
    for group in Group.objects.filter(name__in=TIER_GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("tickets", "0002_tier_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
