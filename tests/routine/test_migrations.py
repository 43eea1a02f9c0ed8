"""RoutineTask moved from maintenance to routine (routine 0005/0006, maintenance 0006): a
database migrated from before the move keeps every task, its id, its items and releases, and
the permissions granted on it; the table is routine's and new rows carry on numbering."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from routine.models import Release, RoutineItem, RoutineTask
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("routine", "0004_releases"), ("maintenance", "0005_routine_task_within")]
AFTER = [("routine", "0006_routinetask_table")]
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def tables():
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def test_tasks_items_releases_and_permissions_survive_the_move():
    apps = migrate(BEFORE)
    try:
        assert "maintenance_routinetask" in tables()
        # sla's tables are today's: the service comes from today's model, the rest from the
        # models as they were before the move.
        service = factories.ServiceFactory(slug="old", name="Old service")
        OldTask = apps.get_model("maintenance", "RoutineTask")
        OldItem = apps.get_model("routine", "RoutineItem")
        OldRelease = apps.get_model("routine", "Release")
        weekly = OldTask.objects.create(
            service_id=service.pk, name="Verify backups", every="weekly", tier=2, position=0
        )
        patches = OldTask.objects.create(
            service_id=service.pk,
            name="Apply security patches",
            every="on_release",
            within="7d",
            position=1,
            retired_at=NOW,
        )
        item = OldItem.objects.create(
            task=weekly,
            service_id=service.pk,
            every="weekly",
            period_start=date(2026, 11, 23),
            period_end=date(2026, 11, 29),
            label="week 48 2026",
            due_at=NOW,
            tier=2,
            note="restored one file",
        )
        release = OldRelease.objects.create(task=patches, name="OpenSSL 3.0.15", released_at=NOW)
        release_item = OldItem.objects.create(
            task=patches,
            release=release,
            service_id=service.pk,
            every="on_release",
            period_start=date(2026, 11, 30),
            period_end=date(2026, 12, 7),
            label="OpenSSL 3.0.15",
            due_at=NOW,
        )
        # A permission granted on the task model before the move stays granted after it.
        ContentType = apps.get_model("contenttypes", "ContentType")
        Permission = apps.get_model("auth", "Permission")
        Group = apps.get_model("auth", "Group")
        ContentType.objects.filter(app_label="routine", model="routinetask").delete()
        content_type, _ = ContentType.objects.get_or_create(
            app_label="maintenance", model="routinetask"
        )
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type,
            codename="change_routinetask",
            defaults={"name": "Can change routine task"},
        )
        editors = Group.objects.create(name="Routine editors")
        editors.permissions.add(permission)

        migrate(AFTER)

        assert "routine_routinetask" in tables()
        assert "maintenance_routinetask" not in tables()
        rows = {
            task.pk: (task.service_id, task.name, task.every, task.tier, task.within)
            for task in RoutineTask.objects.all()
        }
        assert rows == {
            weekly.pk: (service.pk, "Verify backups", "weekly", 2, ""),
            patches.pk: (service.pk, "Apply security patches", "on_release", None, "7d"),
        }
        assert RoutineTask.objects.get(pk=patches.pk).retired_at == NOW
        assert RoutineItem.objects.get(pk=item.pk).task.name == "Verify backups"
        assert RoutineItem.objects.get(pk=item.pk).note == "restored one file"
        assert RoutineItem.objects.get(pk=release_item.pk).release.task_id == patches.pk
        assert list(Release.objects.filter(task__name="Apply security patches")) == [
            Release.objects.get(pk=release.pk)
        ]
        granted = editors.permissions.get()
        assert (granted.content_type.app_label, granted.codename) == (
            "routine",
            "change_routinetask",
        )
        # The id sequence came along with the table: a new task does not collide.
        fresh = RoutineTask.objects.create(service=service, name="New chore", every="daily")
        assert fresh.pk > patches.pk
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
