"""Create the staff groups ``Tier 1``–``Tier 3`` with the permissions staff work with."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# (app label, model, actions) every tier gets; higher tiers see the same models, and the
# admin scopes which tickets each tier sees.
TIER_PERMISSIONS = [
    ("tickets", "ticket", ["view", "change"]),
    ("tickets", "message", ["view", "add"]),
    ("tickets", "attachment", ["view"]),
    ("tickets", "ticketevent", ["view"]),
    ("sla", "service", ["view"]),
    ("sla", "servicecustomer", ["view"]),
    ("sla", "priority", ["view"]),
    ("sla", "tier", ["view"]),
    ("sla", "calendar", ["view"]),
    ("notifications", "notification", ["view"]),
]


def create_tier_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now to use them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [
        (app, f"{action}_{model}") for app, model, actions in TIER_PERMISSIONS for action in actions
    ]
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in codenames
    ]
    for level in (1, 2, 3):
        group, _ = Group.objects.get_or_create(name=f"Tier {level}")
        group.permissions.add(*permissions)


def remove_tier_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Tier 1", "Tier 2", "Tier 3"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("sla", "0001_initial"),
        ("notifications", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_tier_groups, remove_tier_groups)]
