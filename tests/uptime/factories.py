"""Factories for the rows uptime reads: outage incidents."""

import factory

from incidents.models import Incident
from tests.factories import PriorityFactory, ServiceFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    service = factory.SubFactory(ServiceFactory)
    severity = factory.LazyAttribute(
        lambda o: PriorityFactory(service=o.service, code="P1", name="High", position=1)
    )
    title = factory.Sequence(lambda n: f"Outage {n}")
    outage = True
