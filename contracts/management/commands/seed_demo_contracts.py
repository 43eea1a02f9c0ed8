"""Demo organisations for ``make run``: each demo customer's company holds a support contract.

Runs after ``seed_demo`` (which makes the customers ``customer@<service-slug>.example.com``).
Idempotent: an organisation, membership or contract already there is left as it is, so what a
demo user changed in admin survives a restart.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from contracts import services
from contracts.models import Organization
from contracts.selectors import contract_in_force
from core.periods import month_of
from sla.models import Service


class Command(BaseCommand):
    help = "Put each demo customer in an organisation holding one of its plan's contracts."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true")

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("seed_demo_contracts makes demo data; DEBUG is off.")
        users = get_user_model().objects
        admin = users.filter(username="admin@example.com", is_superuser=True).first()
        if admin is None:
            raise CommandError("Run seed_demo first: it makes the demo admin and customers.")
        with transaction.atomic():
            for service in Service.objects.prefetch_related("contracts").order_by("slug"):
                customer = users.filter(username=f"customer@{service.slug}.example.com").first()
                contracts = [c for c in service.contracts.all() if c.retired_at is None]
                if customer is None or not contracts:
                    continue
                organization = self._organization(service, customer, admin)
                month = month_of(timezone.now(), service.timezone)
                if contract_in_force(organization=organization, month=month) is None:
                    # The middle offer: the one most customers of such a plan hold.
                    contract = contracts[len(contracts) // 2]
                    services.organization_set_contract(
                        organization=organization, contract=contract, month=month, by=admin
                    )
                self.stdout.write(f"  {organization.name}: {customer.email}")

    def _organization(self, service, customer, admin):
        name = f"Demo customer of {service.name}"
        organization = Organization.objects.filter(name=name).first()
        if organization is None:
            organization = services.organization_create(name=name, service=service, by=admin)
        if not organization.memberships.filter(user=customer).exists():
            services.organization_add_member(organization=organization, user=customer, by=admin)
        return organization
