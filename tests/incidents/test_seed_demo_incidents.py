"""``seed_demo_incidents``: the demo status page has an open incident with its updates, a
resolved one in its history, and staff a draft to publish; twice = once."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from incidents.models import Incident

pytestmark = pytest.mark.django_db

PLANS = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "plans").glob("*.yaml"))


def _seed(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("load_plan", *PLANS, stdout=out)
    call_command("seed_demo", stdout=out)
    call_command("seed_demo_incidents", stdout=out)


def test_open_resolved_and_draft_once(settings, tier_groups):
    _seed(settings)
    incidents = Incident.objects.all()
    published_open = incidents.filter(published_at__isnull=False, resolved_at__isnull=True)
    assert published_open.count() == 1
    assert published_open.get().updates.filter(public=True).count() == 2
    assert incidents.filter(published_at__isnull=False, resolved_at__isnull=False).count() == 1
    assert incidents.filter(published_at__isnull=True).count() == 1
    _seed(settings)
    assert Incident.objects.count() == 3


def test_refused_without_the_demo_admin(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = True
    with pytest.raises(CommandError, match="seed_demo first"):
        call_command("seed_demo_incidents", stdout=io.StringIO())
