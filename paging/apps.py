from django.apps import AppConfig


class PagingConfig(AppConfig):
    name = "paging"
    verbose_name = "Pages and chat"

    def ready(self):
        # sla owns the plan format but must not import paging: register our section.
        from sla.plan import sections

        from .plan import paging_apply_plan, paging_export_plan

        sections.register("notify", apply=paging_apply_plan, export=paging_export_plan)
