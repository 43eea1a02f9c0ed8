"""Incidents recorded before drafts existed were public: the migration publishes them, with the
impact their Outage flag meant; and Tier 2 and 3 (not Tier 1) get the publish permission."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("incidents", "0005_update_emails_fanout")]
AFTER = [("incidents", "0008_publish_existing")]
CREATED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_incidents_are_published_at_their_creation_with_their_impact():
    apps = migrate(BEFORE)
    try:
        # Other apps stay migrated (their tables are today's): their rows come from today's
        # models, the incidents from the model as it was before 0006.
        service = factories.ServiceFactory(slug="old", name="Old service")
        severity = factories.PriorityFactory(service=service, code="P0")
        Incident = apps.get_model("incidents", "Incident")
        old = {"service_id": service.pk, "severity_id": severity.pk, "created_at": CREATED}
        down = Incident.objects.create(title="Down", outage=True, **old)
        slow = Incident.objects.create(title="Slow", outage=False, **old)
        apps = migrate(AFTER)
        Incident = apps.get_model("incidents", "Incident")
        rows = {
            row.pk: (row.published_at, row.impact, row.outage)
            for row in Incident.objects.filter(pk__in=[down.pk, slow.pk])
        }
        assert rows == {
            down.pk: (CREATED, "major_outage", True),
            slow.pk: (CREATED, "degraded_performance", False),
        }
        Group = apps.get_model("auth", "Group")
        publishers = set(
            Group.objects.filter(permissions__codename="publish_incident").values_list(
                "name", flat=True
            )
        )
        assert publishers == {"Tier 2", "Tier 3"}
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
