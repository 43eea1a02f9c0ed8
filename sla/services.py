"""Writes of the SLA side that other apps call by name."""

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Service, StaffService


@transaction.atomic
def staff_services_set(*, user, service_slugs):
    """Limit a staff member to exactly these services (an empty list: every service, as for
    a member without rows). Single sign-on calls it with the services the person's
    identity-provider groups map to (``settings.ACCOUNTS_SET_STAFF_SERVICES``).

    A slug that names no service is refused and nothing changes: dropping it silently could
    leave the member with no row, which means every service."""
    slugs = set(service_slugs)
    services = list(Service.objects.filter(slug__in=slugs))
    unknown = slugs - {service.slug for service in services}
    if unknown:
        raise ValidationError(
            "The single sign-on group map names services that do not exist: "
            + ", ".join(sorted(unknown))
        )
    StaffService.objects.filter(user=user).exclude(service__in=services).delete()
    have = set(StaffService.objects.filter(user=user).values_list("service_id", flat=True))
    StaffService.objects.bulk_create(
        StaffService(user=user, service=service) for service in services if service.pk not in have
    )
    user.__dict__.pop("_staff_service_ids", None)  # the selector's memo on this user object
