"""Factories for the rows the metrics read beyond tickets: incidents and plan targets."""

import factory

from incidents.models import Incident
from sla.models import ServiceTargets
from tests.factories import PriorityFactory, ServiceFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    service = factory.SubFactory(ServiceFactory)
    severity = factory.LazyAttribute(
        lambda o: PriorityFactory(service=o.service, code="P1", name="Critical", position=0)
    )
    title = factory.Sequence(lambda n: f"Outage {n}")
    outage = True


class ServiceTargetsFactory(factory.django.DjangoModelFactory):
    """The roofing plan's success metrics, unless told otherwise."""

    class Meta:
        model = ServiceTargets
        django_get_or_create = ("service",)

    service = factory.SubFactory(ServiceFactory)
    mttr = "4h"
    mtbf = "720h"
    first_response_avg = "1h"
    resolution_rate = 75
    csat = 4
