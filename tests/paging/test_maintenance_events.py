"""Maintenance pages: ``maintenance.started`` and ``maintenance.ended`` of each occurrence, from
the minute's maintenance beat task, once each however often it runs, none for a cancelled
occurrence, PagerDuty trigger then resolve under one dedup_key."""

import datetime as dt

import pytest
import time_machine

from maintenance.paging_events import maintenance_pages_record_due
from maintenance.services import occurrence_cancel
from maintenance.tasks import send_maintenance_notices
from paging.models import Delivery
from paging.services import deliveries_send_due
from sla.models import Service
from tests import factories
from tests.paging.conftest import load_plan_text

# Sunday 2026-12-06 02:00–04:00 UTC, and the Sunday after.
START = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)

PLAN = """
service: {slug: kept, name: Kept service}
priorities:
  - {code: P1, name: High, response: 1h}
tiers:
  - {level: 1, name: Helpdesk}
maintenance:
  notices: []
  channels: []
  windows:
    - name: Scheduled downtime
      rrule: FREQ=WEEKLY;BYDAY=SU
      start: "02:00"
      duration: 2h
      timezone: UTC
      impact: Full downtime
notify:
  - name: pager
    kind: pagerduty
    secret_env: TEST_PAGING_PD
    events: [maintenance.started, maintenance.ended]
"""


@pytest.fixture
def kept(db, monkeypatch, receiver):
    monkeypatch.setenv("TEST_PAGING_PD", "pd-routing-key")
    load_plan_text(PLAN)
    return Service.objects.get(slug="kept")


@pytest.mark.django_db(transaction=True)
def test_started_and_ended_page_once_each(kept, receiver):
    """Before the start nothing; from the start, one ``maintenance.started`` however often the
    beat task runs; at the end one ``maintenance.ended``; PagerDuty gets trigger then resolve
    with the same dedup_key."""
    with time_machine.travel(START - dt.timedelta(minutes=1), tick=False):
        send_maintenance_notices()
    assert not Delivery.objects.exists()
    for minute in (0, 1, 5):
        with time_machine.travel(START + dt.timedelta(minutes=minute), tick=False):
            send_maintenance_notices()
    assert list(Delivery.objects.values_list("event", flat=True)) == ["maintenance.started"]
    with time_machine.travel(START + dt.timedelta(hours=2, minutes=1), tick=False):
        maintenance_pages_record_due()
        send_maintenance_notices()
        deliveries_send_due()
    assert sorted(Delivery.objects.values_list("event", "status")) == [
        ("maintenance.ended", "sent"),
        ("maintenance.started", "sent"),
    ]
    sent = [request.json() for request in receiver.requests]
    assert [event["event_action"] for event in sent] == ["trigger", "resolve"]
    assert len({event["dedup_key"] for event in sent}) == 1
    assert sent[0]["payload"]["severity"] == "info"


@pytest.mark.django_db(transaction=True)
def test_cancelled_or_long_past_occurrences_page_nobody(kept):
    """A cancelled occurrence pages nothing; a beat that was down for hours does not page a
    start long past."""
    window = kept.maintenance_windows.get()
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    with time_machine.travel(START - dt.timedelta(days=1), tick=False):
        occurrence_cancel(window=window, starts_at=START, by=staff, reason="not needed")
    with time_machine.travel(START + dt.timedelta(minutes=3), tick=False):
        maintenance_pages_record_due()
    with time_machine.travel(START + dt.timedelta(days=7, hours=1, minutes=30), tick=False):
        maintenance_pages_record_due()
    assert not Delivery.objects.exists()
