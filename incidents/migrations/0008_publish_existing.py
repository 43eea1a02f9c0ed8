"""Publish the incidents recorded before drafts existed (0006 added the columns).

A migration of its own: on PostgreSQL, updating rows in the transaction that added the columns
leaves trigger events pending that the deferred CREATE INDEX of 0006 refuses.
"""

from django.db import migrations
from django.db.models import F


def publish_existing(apps, schema_editor):
    """Incidents recorded before drafts existed were public from the moment they were saved:
    they stay published (at their creation), and their impact says what the Outage flag did."""
    Incident = apps.get_model("incidents", "Incident")
    # Only rows nobody has published yet: all of them when this runs (no draft exists before
    # it), and a second run changes no impact staff chose since.
    old = Incident.objects.filter(published_at__isnull=True)
    old.filter(outage=True).update(impact="major_outage")
    old.filter(outage=False).update(impact="degraded_performance")
    old.update(published_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("incidents", "0007_publish_permission")]

    operations = [migrations.RunPython(publish_existing, migrations.RunPython.noop)]
