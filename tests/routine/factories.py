"""Factories and helpers for routine tasks and their checklist items."""

import factory
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from routine.models import RoutineItem, RoutineTask
from tests import factories


class RoutineTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutineTask

    service = factory.SubFactory(factories.ServiceFactory)
    name = factory.Sequence(lambda n: f"Routine chore {n}")
    every = "weekly"
    category = "operations"
    tier = None
    position = factory.Sequence(lambda n: n)


def grant_routine_permissions():
    """The tier groups' routine permissions (migration 0002), again after a flush emptied them."""
    ContentType.objects.clear_cache()
    content_type = ContentType.objects.get_for_model(RoutineItem)
    permissions = [
        Permission.objects.get_or_create(
            content_type=content_type,
            codename=f"{action}_routineitem",
            defaults={"name": f"Can {action} routine item"},
        )[0]
        for action in ("view", "change")
    ]
    for level in (1, 2, 3):
        factories.tier_group(level).permissions.add(*permissions)


def routine_staff(level, **fields):
    grant_routine_permissions()
    return factories.StaffFactory(tier=level, **fields)
