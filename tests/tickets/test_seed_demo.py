"""``seed_demo``: a living portal for ``make run`` — each demo customer has a ticket in every
state, each service a maintenance window in progress and one done; twice = once."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from maintenance.models import MaintenanceWindow
from maintenance.selectors import occurrences_for_services
from sla.models import Service
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

PLANS = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "plans").glob("*.yaml"))


def _seed(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("load_plan", *PLANS, stdout=out)
    call_command("seed_demo", stdout=out)


@time_machine.travel("2026-12-02 10:00Z", tick=False)
def test_every_state_once_per_service_and_again_changes_nothing(settings, tier_groups):
    _seed(settings)
    services = list(Service.objects.all())
    assert services
    now = timezone.now()
    for service in services:
        tickets = Ticket.objects.filter(service=service)
        statuses = {t.status for t in tickets}
        assert statuses >= {"new", "open", "waiting_on_customer", "resolved", "closed"}
        assert tickets.filter(rating__isnull=False).count() == 2  # resolved and closed, rated
        assert tickets.filter(tier__gt=1, status="new").exists()  # escalated
        assert tickets.filter(response_due_at__lt=now, first_response_at__isnull=True).exists()
        # Maintenance: one window in progress now, one done; the plans' ones are upcoming.
        occurrences = occurrences_for_services(
            services=[service], start=now - timedelta(days=2), end=now
        )
        demo = [o for o in occurrences if o.window.name.endswith("(demo)")]
        assert any(o.starts_at <= now < o.ends_at for o in demo)
        assert any(o.ends_at <= now for o in demo)

    counts = (Ticket.objects.count(), MaintenanceWindow.objects.count())
    _seed(settings)
    assert (Ticket.objects.count(), MaintenanceWindow.objects.count()) == counts
