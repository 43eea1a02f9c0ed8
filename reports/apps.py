from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Period reports"

    def ready(self):
        # sla owns the plan format but must not import the apps above it: register our section.
        from sla.plan import sections

        from .plan import reports_apply_plan, reports_export_plan

        sections.register("reports", apply=reports_apply_plan, export=reports_export_plan)
