from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "maintenance"
    verbose_name = "Maintenance"

    def ready(self):
        # sla owns the plan format but must not import maintenance: register our section.
        from sla.plan import sections

        from .plan import maintenance_apply_plan, maintenance_export_plan

        sections.register(
            "maintenance", apply=maintenance_apply_plan, export=maintenance_export_plan
        )
