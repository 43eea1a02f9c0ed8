"""The moved RoutineTask's table takes routine's name: ``maintenance_routinetask`` is renamed
to ``routine_routinetask`` (rows, ids and the foreign keys pointing at it are kept: a rename,
not a copy)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("routine", "0005_routinetask_from_maintenance"),
        ("maintenance", "0006_routinetask_to_routine"),
    ]

    operations = [migrations.AlterModelTable(name="routinetask", table=None)]
