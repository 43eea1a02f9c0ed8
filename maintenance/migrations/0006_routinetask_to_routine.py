"""RoutineTask now belongs to routine (issue 15): it leaves maintenance's state only. Its table
and rows stay; routine 0005 took the model over and routine 0006 renames the table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("maintenance", "0005_routine_task_within"),
        # routine's keys point at routine.RoutineTask first, so none is left dangling here.
        ("routine", "0005_routinetask_from_maintenance"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="RoutineTask")],
            database_operations=[],
        ),
    ]
