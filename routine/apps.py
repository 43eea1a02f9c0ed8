from django.apps import AppConfig


class RoutineConfig(AppConfig):
    name = "routine"
    verbose_name = "Routine tasks"
