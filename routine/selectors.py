"""Reads of routine items, scoped to what a staff member may see."""

from django.http import Http404

from accounts.roles import staff_tier_level
from sla.selectors import limit_to_staff_services

from .models import RoutineItem


def items_for_staff(*, user):
    """Items a staff member may see and tick off: those owned by their tier or a lower one, of
    the services they work, as with tickets; superusers see all; anyone else none."""
    level = staff_tier_level(user)
    if level is None:
        return RoutineItem.objects.none()
    items = RoutineItem.objects.all()
    if not user.is_superuser:
        items = limit_to_staff_services(items.filter(tier__lte=level), user=user)
    return items


def item_get_for_staff(*, user, item_id):
    """The item, or 404 when it is out of the staff member's scope (it does not exist for them)."""
    try:
        return items_for_staff(user=user).select_related("task", "service").get(pk=int(item_id))
    except (RoutineItem.DoesNotExist, ValueError, TypeError):
        raise Http404("No such routine item.") from None
