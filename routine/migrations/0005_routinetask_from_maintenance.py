"""RoutineTask moves from maintenance to routine (issue 15), keeping its table and rows.

In three steps, so the state never holds a foreign key to a model that is gone:
this migration adds ``routine.RoutineTask`` to the state only, on the table maintenance made,
and points the items' and releases' keys at it (state only: the database constraints already
reference that table); ``maintenance`` 0006 drops its model from the state only; ``0006`` here
then renames the table to ``routine_routinetask`` in a real operation, so the model needs no
``db_table`` of another app's name. The content type moves with the model, so permissions
granted on it and admin history stay attached.
"""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor, source="maintenance", target="routine"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    # A content type already created for the target (by a run that got this far) wins.
    if not rows.filter(app_label=target, model="routinetask").exists():
        rows.filter(app_label=source, model="routinetask").update(app_label=target)
    ContentType.objects.clear_cache()


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="routine", target="maintenance")


class Migration(migrations.Migration):
    dependencies = [
        ("routine", "0004_releases"),
        ("maintenance", "0005_routine_task_within"),
        ("sla", "0011_on_call_acknowledge"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RoutineTask",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        (
                            "every",
                            models.CharField(
                                choices=[
                                    ("daily", "Daily"),
                                    ("weekly", "Weekly"),
                                    ("monthly", "Monthly"),
                                    ("quarterly", "Quarterly"),
                                    ("annually", "Annually"),
                                    ("on_release", "On each release"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("category", models.CharField(default="general", max_length=50)),
                        (
                            "tier",
                            models.PositiveSmallIntegerField(
                                blank=True, help_text="Owner tier level.", null=True
                            ),
                        ),
                        ("within", models.CharField(blank=True, max_length=20)),
                        ("position", models.PositiveSmallIntegerField(default=0)),
                        ("retired_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "service",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="routine_tasks",
                                to="sla.service",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["service", "position"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("service", "name"), name="uniq_routine_task_name"
                            )
                        ],
                        # Still maintenance's table until 0006 renames it.
                        "db_table": "maintenance_routinetask",
                    },
                ),
                migrations.AlterField(
                    model_name="release",
                    name="task",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="releases",
                        to="routine.routinetask",
                    ),
                ),
                migrations.AlterField(
                    model_name="routineitem",
                    name="task",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="routine.routinetask",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
