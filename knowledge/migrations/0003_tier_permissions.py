"""Every tier reads, writes and publishes articles (Tier 1 answers most tickets, so most
answers worth keeping are theirs); deleting one is left to Tier 3 and superusers. Versions and
"solved" marks are records: read only, and only shown inside an article's page."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ACTIONS = {
    1: ["view", "add", "change"],
    2: ["view", "add", "change"],
    3: ["view", "add", "change", "delete"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("knowledge")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for level, actions in ACTIONS.items():
        group, _ = Group.objects.get_or_create(name=f"Tier {level}")
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="knowledge",
                codename__in=[f"{action}_article" for action in actions] + ["view_articleversion"],
            )
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="knowledge").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0002_search_vector"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
