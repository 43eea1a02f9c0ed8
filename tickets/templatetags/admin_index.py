"""The admin index (and sidebar) ordered for the day's work, with one "Routine tasks" entry.

Django lists apps alphabetically; staff start from tickets. Apps are named here by label only
(no import of the apps above tickets). ``templates/admin/app_list.html`` applies it, so the
index, the sidebar and each app's page agree.
"""

from django import template

register = template.Library()

# The day's work first, set-up next, people and the machinery last. Labels not named keep
# Django's order after these.
WORK_ORDER = [
    "tickets",
    "incidents",
    "alerts",
    "paging",
    "maintenance",
    "routine",
    "contracts",
    "inbound",
    "notifications",
    "sla",
    "metrics",
    "uptime",
    "status",
    "accounts",
    "auth",
    "axes",
]
# Routine's task definitions (what to do, how often) and its checklist sit under one "Routine
# tasks" heading, with names that do not read alike.
MODEL_NAMES = {
    ("routine", "RoutineTask"): "Task definitions (what, how often)",
    ("routine", "RoutineItem"): "Checklist (dated items)",
}


def _key(model):
    """``(app label, object name)`` of an app list's model entry (Django gives its class)."""
    return (model["model"]._meta.app_label, model["object_name"])


@register.simple_tag
def work_ordered(app_list):
    """``app_list`` (Django's list of app dicts) reordered and renamed, as a new list: the
    caller's dicts stay as they were."""
    apps = [
        {
            **app,
            "models": [
                {**model, "name": MODEL_NAMES.get(_key(model), model["name"])}
                for model in app["models"]
            ],
        }
        for app in app_list
    ]
    apps = [app for app in apps if app["models"]]
    rank = {label: n for n, label in enumerate(WORK_ORDER)}
    return sorted(apps, key=lambda app: rank.get(app["app_label"], len(WORK_ORDER)))
