from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        # sla owns the plan format but must not import alerts: register our section.
        from sla.plan import sections

        from .plan import alerts_apply_plan, alerts_export_plan

        sections.register("alerts", apply=alerts_apply_plan, export=alerts_export_plan)
