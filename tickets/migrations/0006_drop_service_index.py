# The FK's own index is redundant with ticket_metrics_created (service, created_at). Only the
# index is dropped: letting Django alter the field would drop and re-add (and so re-validate
# over every row) the foreign key constraint as well.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("sla", "0005_support_contract_retired_at"),
        ("tickets", "0005_metrics_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="service",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="sla.service",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS tickets_ticket_service_id_b539ed07",
                    reverse_sql="CREATE INDEX tickets_ticket_service_id_b539ed07 "
                    "ON tickets_ticket (service_id)",
                ),
            ],
        ),
    ]
