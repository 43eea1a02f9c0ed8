"""Demo incidents for ``make run``: on the first service, one open incident (published, with
public updates: it shows on /status/) and one resolved yesterday (in the history, its
post-mortem due); a draft, on the last service, that only staff see.

Runs after ``seed_demo`` (its admin opens and publishes them). Idempotent: an incident with
the same title on the service is left as it is.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from incidents import services
from incidents.models import Impact, Incident, UpdateStatus
from sla.models import Service

# (title, impact, updates as (status, body), state)
DEMO_INCIDENTS = [
    (
        "Slow page loads for some customers",
        Impact.DEGRADED_PERFORMANCE,
        [
            (UpdateStatus.INVESTIGATING, "Some pages take several seconds to load. We are on it."),
            (UpdateStatus.IDENTIFIED, "A busy database replica; we are moving traffic off it."),
        ],
        "open",
    ),
    (
        "Sign-in failing",
        Impact.MAJOR_OUTAGE,
        [
            (UpdateStatus.INVESTIGATING, "Nobody can sign in. We are looking into it."),
            (UpdateStatus.RESOLVED, "An expired certificate was renewed; sign-in works again."),
        ],
        "resolved",
    ),
    ("Backups running late (draft)", Impact.DEGRADED_PERFORMANCE, [], "draft"),
]


class Command(BaseCommand):
    help = "Open demo incidents: one open and published, one resolved, one draft."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true")

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("seed_demo_incidents makes demo data; DEBUG is off.")
        admin = (
            get_user_model().objects.filter(username="admin@example.com", is_superuser=True).first()
        )
        if admin is None:
            raise CommandError("Run seed_demo first: it makes the demo admin.")
        services_ = list(Service.objects.prefetch_related("priorities").order_by("slug"))
        if not services_:
            raise CommandError("No services: load plans first.")
        with transaction.atomic():
            for title, impact, updates, state in DEMO_INCIDENTS:
                service = services_[-1] if state == "draft" else services_[0]
                self._incident(service, admin, title, impact, updates, state)
        self.stdout.write(self.style.SUCCESS("Demo incidents ready."))

    def _incident(self, service, admin, title, impact, updates, state):
        if Incident.objects.filter(service=service, title=title).exists():
            return
        severity = min(service.priorities.all(), key=lambda p: p.position, default=None)
        if severity is None:
            return
        now = timezone.now()
        started = now - (timedelta(days=1, hours=2) if state == "resolved" else timedelta(hours=1))
        incident = services.incident_open(
            service=service,
            severity=severity,
            title=title,
            impact=impact,
            started_at=started,
            by=admin,
        )
        if state == "draft":
            return
        services.incident_publish(incident=incident, by=admin)
        for status, body in updates:
            services.incident_post_update(
                incident=incident, body=body, public=True, by=admin, status=status
            )
        if state == "resolved":
            services.incident_resolve(
                incident=incident, by=admin, resolved_at=started + timedelta(minutes=50)
            )
