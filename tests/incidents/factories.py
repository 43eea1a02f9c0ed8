"""factory_boy factories for incidents (the shared tests/factories.py stays untouched)."""

import factory
from django.utils import timezone

from incidents.models import Incident, IncidentUpdate
from sla.models import IncidentPolicy
from tests import factories


class IncidentPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentPolicy
        django_get_or_create = ("service",)

    service = factory.SubFactory(factories.ServiceFactory)
    postmortem_due = "48h"
    steps = factory.LazyFunction(lambda: ["detect", "triage", "communicate", "resolve", "review"])


class IncidentFactory(factory.django.DjangoModelFactory):
    """A row as the services would leave a published incident (``published_at=None`` for a
    draft); tests that pin behaviour open incidents through ``incidents.services`` instead."""

    class Meta:
        model = Incident

    service = factory.SubFactory(factories.ServiceFactory)
    severity = factory.LazyAttribute(
        lambda o: factories.PriorityFactory(service=o.service, code="P0", name="Critical")
    )
    title = factory.Sequence(lambda n: f"Outage number {n}")
    started_at = factory.LazyFunction(timezone.now)
    published_at = factory.SelfAttribute("started_at")
    owner = factory.SubFactory(factories.StaffFactory)
    opened_by = factory.SelfAttribute("owner")


class IncidentUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentUpdate

    incident = factory.SubFactory(IncidentFactory)
    body = "We are looking into it."
    public = True
