from django.apps import AppConfig


class RoutineConfig(AppConfig):
    name = "routine"
    verbose_name = "Routine tasks"

    def ready(self):
        # sla owns the plan format and maintenance sits below us: neither may import routine,
        # so we register the plan's ``routine_tasks`` section (tasks, then their items).
        from sla.plan import sections

        from .plan import routine_apply_plan, routine_export_plan

        sections.register("routine", apply=routine_apply_plan, export=routine_export_plan)
