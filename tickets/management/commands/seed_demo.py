"""Demo data for ``make run``: a customer per service, a staff member per tier, an admin, and a
living portal: each service's customer has tickets in every state (new, open and assigned,
waiting on them, escalated, breached, resolved and rated, closed and rated), and each service
a maintenance window in progress and one done (the plans' windows are the upcoming ones).
Incidents, which sit above tickets, are seeded by ``seed_demo_incidents``.

Idempotent: running it again finds the accounts and tickets it made (by customer and subject)
and changes nothing but passwords; the demo windows are re-centred on the current time, so the
one "in progress" still is.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.roles import TIER_LEVELS, tier_group_name
from maintenance.banner import banner_cache_clear
from maintenance.models import MaintenanceWindow
from sla.models import Service
from tickets import services as tickets
from tickets.models import Ticket
from tickets.services import customer_add_service

Status = Ticket.Status

# (subject, state): one ticket per state a working portal shows. The description says what
# the demo ticket shows, so nobody mistakes it for a real request.
DEMO_TICKETS = [
    ("Export to CSV times out", "new"),
    ("Password reset email never arrives", "open"),
    ("Invoice shows the wrong VAT number", "waiting"),
    ("Checkout fails for card payments", "escalated"),
    ("Dashboard has not loaded since this morning", "breached"),
    ("Add a second admin to our account", "resolved"),
    ("Typo on the login page", "closed"),
]

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
        tier1 = get_user_model().objects.get(username="tier1@example.com")
        for service in services:
            customer = self._user(f"customer@{service.slug}.example.com", first_name="Demo")
            customer_add_service(customer=customer, service=service)
            logins.append((f"customer of {service.name}", customer.email))
            self._tickets(service, customer, staff=tier1, admin=admin)
            self._windows(service)
        return logins

    def _tickets(self, service, customer, *, staff, admin):
        priorities = list(service.priorities.order_by("position"))
        if not priorities:
            return
        urgent, usual = priorities[0], priorities[-1]
        taken = set(
            Ticket.objects.filter(customer=customer, service=service).values_list(
                "subject", flat=True
            )
        )
        for subject, state in DEMO_TICKETS:
            if subject in taken:
                continue
            ticket = tickets.ticket_create(
                customer=customer,
                service=service,
                priority=urgent if state == "breached" else usual,
                subject=subject,
                description=f"Demo ticket ({state}). {subject}: steps, screenshots, the usual.",
            )
            self._bring_to(ticket, state, customer=customer, staff=staff, admin=admin)

    def _bring_to(self, ticket, state, *, customer, staff, admin):
        """Move a new demo ticket to ``state`` through the services staff and customers use."""
        if state == "new":
            return
        if state == "breached":
            # Its response was due twenty minutes ago and nobody answered: backdated in place
            # (no service makes the past), with the sweep's next look due, so beat records
            # the breach and escalates it as it would any other.
            past = timezone.now() - timedelta(minutes=20)
            Ticket.objects.filter(pk=ticket.pk).update(
                created_at=past - timedelta(hours=1), response_due_at=past, next_due_at=past
            )
            return
        if state == "escalated":
            tickets.ticket_escalate(ticket=ticket, by=admin, reason="Needs a developer (demo).")
            return
        tickets.ticket_assign(ticket=ticket, assignee=staff, by=staff)
        tickets.ticket_reply(
            ticket=ticket, author=staff, body="Thanks, we are on it. (A demo reply.)"
        )
        if state == "open":
            return
        if state == "waiting":
            tickets.ticket_set_status(ticket=ticket, status=Status.WAITING_ON_CUSTOMER, by=staff)
            return
        tickets.ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
        rating = 5 if state == "resolved" else 4
        tickets.ticket_rate(ticket=ticket, by=customer, rating=rating, comment="Quick and clear.")
        if state == "closed":
            tickets.ticket_set_status(ticket=ticket, status=Status.CLOSED, by=staff)

    def _windows(self, service):
        """A one-off window in progress now and one done yesterday, in the service's zone."""
        local_now = timezone.localtime(timezone.now(), ZoneInfo(service.timezone))
        started = local_now - timedelta(minutes=30)
        done = local_now - timedelta(days=1)
        for name, start, impact in (
            ("Storage upgrade (demo)", started, "Uploads may be slow for a few minutes."),
            ("Database patching (demo)", done, "Short read-only periods."),
        ):
            MaintenanceWindow.objects.update_or_create(
                service=service,
                name=name,
                defaults={
                    "rrule": "",
                    "date": start.date(),
                    "start": start.time().replace(second=0, microsecond=0),
                    "duration": "2h",
                    "timezone": service.timezone,
                    "impact": impact,
                    "is_active": True,
                    "position": 99,
                },
            )
        banner_cache_clear(service_id=service.pk)

    def _user(self, email, **fields):
        user, _ = get_user_model().objects.update_or_create(
            username=email, defaults={"email": email, "is_active": True, **fields}
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        return user
