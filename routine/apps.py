from django.apps import AppConfig


class RoutineConfig(AppConfig):
    name = "routine"
    verbose_name = "Routine tasks"

    def ready(self):
        # A plan's routine tasks (written by the maintenance section, registered before this
        # one) have their current period's checklist items as soon as the plan is loaded, not
        # at the next beat run a quarter of an hour later.
        from sla.plan import sections

        from .services import routine_items_create

        def apply(*, service, plan, now, report):
            routine_items_create(now=now, service=service)

        sections.register("routine", apply=apply, export=lambda *, service: {})
