from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and post-mortems"

    def ready(self):
        # sla owns the plan format but must not import incidents: register the runbooks.
        from sla.plan import sections

        from .runbooks import runbooks_apply_plan, runbooks_export_plan

        sections.register("runbooks", apply=runbooks_apply_plan, export=runbooks_export_plan)
