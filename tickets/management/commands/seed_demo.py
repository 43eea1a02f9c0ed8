"""Demo accounts for ``make run``: a customer per service, a staff member per tier, an admin.

Idempotent: running it again finds the accounts it made and changes nothing but passwords.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.roles import TIER_LEVELS, tier_group_name
from sla.models import Service
from tickets.services import customer_add_service

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 -- demo data only; refused outside DEBUG


class Command(BaseCommand):
    help = "Create demo logins (customers, tier staff, admin) for the loaded services."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Create the demo accounts even with DEBUG off (never on a real deployment).",
        )

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("seed_demo creates accounts with a known password; DEBUG is off.")
        services = list(Service.objects.order_by("slug"))
        if not services:
            raise CommandError("No services: load plans first (manage.py load_plan plans/*.yaml).")
        logins = self._seed(services)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Portal:  {settings.SITE_URL}/")
        self.stdout.write(f"  Admin:   {settings.SITE_URL}/admin/")
        self.stdout.write(f"  Status:  {settings.SITE_URL}/status/")
        self.stdout.write(f"  Every demo password: {DEMO_PASSWORD}")
        for role, email in logins:
            self.stdout.write(f"  {role:<28} {email}")

    @transaction.atomic
    def _seed(self, services):
        logins = []
        admin = self._user("admin@example.com", is_staff=True, is_superuser=True)
        logins.append(("admin (superuser)", admin.email))
        for level in TIER_LEVELS:
            staff = self._user(
                f"tier{level}@example.com", is_staff=True, first_name=f"Tier {level}"
            )
            staff.groups.add(Group.objects.get(name=tier_group_name(level)))
            logins.append((f"staff, {tier_group_name(level)}", staff.email))
        for service in services:
            customer = self._user(f"customer@{service.slug}.example.com", first_name="Demo")
            customer_add_service(customer=customer, service=service)
            logins.append((f"customer of {service.name}", customer.email))
        return logins

    def _user(self, email, **fields):
        user, _ = get_user_model().objects.update_or_create(
            username=email, defaults={"email": email, "is_active": True, **fields}
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        return user
