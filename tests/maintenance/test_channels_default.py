"""A plan's `maintenance` without `channels` gets the documented default, email and banner
(plan-format.md): its notices are emailed and its banner shown. `channels: []` is a plan saying
"no notices" on purpose, and sends and shows nothing."""

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command

from maintenance.models import MaintenancePolicy
from maintenance.notices import notices_send_due
from sla.models import Service
from tests.maintenance.conftest import SUNDAY, subscribe_customers

PLAN = """\
service:
  slug: quiet
  name: Quiet
  timezone: UTC
priorities:
  - {code: P1, name: High, response: 1h}
tiers:
  - {level: 1, name: Helpdesk}
maintenance:
  notices: [48h]
%s  windows:
    - name: Scheduled downtime
      rrule: FREQ=WEEKLY;BYDAY=SU
      start: "02:00"
      duration: 2h
      impact: Full downtime
"""


def load(tmp_path, channels_line=""):
    path = tmp_path / "quiet.yaml"
    path.write_text(PLAN % channels_line)
    call_command("load_plan", str(path), stdout=io.StringIO())
    return Service.objects.get(slug="quiet")


def banner_page(client, customer_of, service):
    client.force_login(customer_of(service))
    cache.clear()
    return client.get("/").content.decode()


@pytest.mark.django_db
def test_a_plan_without_channels_emails_its_notices_and_shows_the_banner(
    tmp_path, clock, client, customer_of
):
    service = load(tmp_path)
    assert MaintenancePolicy.objects.get(service=service).channels == ["email", "banner"]
    subscribe_customers(service, 2)
    clock.move_to(SUNDAY - timedelta(hours=48))
    assert notices_send_due() == 2
    assert "maintenance-banner" in banner_page(client, customer_of, service)


@pytest.mark.django_db
def test_an_empty_channels_list_sends_and_shows_nothing(tmp_path, clock, client, customer_of):
    service = load(tmp_path, "  channels: []\n")
    assert MaintenancePolicy.objects.get(service=service).channels == []
    subscribe_customers(service, 2)
    clock.move_to(SUNDAY - timedelta(hours=48))
    assert notices_send_due() == 0
    assert "maintenance-banner" not in banner_page(client, customer_of, service)
