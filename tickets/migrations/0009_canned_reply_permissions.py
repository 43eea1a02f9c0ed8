"""Every tier reads canned replies; Tier 2 and Tier 3 also write them (superusers always may)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READ = ["view"]
WRITE = ["view", "add", "change", "delete"]
ACTIONS = {1: READ, 2: WRITE, 3: WRITE}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("tickets")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for level, actions in ACTIONS.items():
        group, _ = Group.objects.get_or_create(name=f"Tier {level}")
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="tickets",
                codename__in=[f"{action}_cannedreply" for action in actions],
            )
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="tickets", codename__endswith="_cannedreply"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0008_canned_reply"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
