"""Maintenance policy, windows and routine tasks in admin, with the loader's rules."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from maintenance.models import MaintenancePolicy, MaintenanceWindow
from routine.models import RoutineTask
from sla.models import Service
from sla.plan import PlanInvalid, parse_plan

PLANS = Path(__file__).resolve().parents[2] / "plans"


@pytest.fixture
def loaded(db):
    call_command("load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO())


@pytest.mark.parametrize(
    "model", [MaintenancePolicy, MaintenanceWindow, RoutineTask], ids=lambda m: m.__name__
)
def test_admin_pages_load(admin_client, loaded, model, django_assert_max_num_queries):
    """Changelist (bounded queries), add and change pages load."""
    info = model._meta.app_label, model._meta.model_name
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200
    obj = model.objects.order_by("pk").last()
    assert (
        admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code
        == 200
    )


def window_post(service, **changes):
    data = {
        "service": service.pk,
        "name": "Extra",
        "category": "general",
        "rrule": "FREQ=WEEKLY;BYDAY=SA",
        "date": "",
        "start": "02:00",
        "duration": "2h",
        "timezone": "America/New_York",
        "impact": "",
        "is_active": "on",
        "position": "5",
    }
    data.update(changes)
    return data


def test_window_outside_slot_refused_with_loaders_message(admin_client, loaded):
    """Legacy's windows must sit in 02:00–06:00 ET: admin refuses 05:00 for 2 h like the loader."""
    service = Service.objects.get(slug="legacy-estate-os")
    response = admin_client.post(
        reverse("admin:maintenance_maintenancewindow_add"), window_post(service, start="05:00")
    )
    assert response.status_code == 200
    text = (
        (PLANS / "legacy-estate-os.yaml")
        .read_text()
        .replace('start: "02:00"\n      duration: 4h', 'start: "05:00"\n      duration: 2h', 1)
    )
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text, "x.yaml")
    (error,) = caught.value.errors
    assert "outside the allowed slot" in error.message
    assert escape(error.message) in response.content.decode()
    assert not MaintenanceWindow.objects.filter(name="Extra").exists()


def test_window_bad_rrule_refused(admin_client, loaded):
    """A bad RRULE is refused in admin."""
    service = Service.objects.get(slug="xsafe-erp")
    response = admin_client.post(
        reverse("admin:maintenance_maintenancewindow_add"),
        window_post(service, rrule="BYDAY=SA"),
    )
    assert "an RRULE needs FREQ" in response.content.decode()


def test_window_needs_rrule_or_date(admin_client, loaded):
    """Both a rule and a date (or neither) is refused."""
    service = Service.objects.get(slug="xsafe-erp")
    response = admin_client.post(
        reverse("admin:maintenance_maintenancewindow_add"),
        window_post(service, date="2026-12-06"),
    )
    assert "exactly one of" in response.content.decode()


def test_valid_window_is_saved(admin_client, loaded):
    """A window inside the slot is saved."""
    service = Service.objects.get(slug="legacy-estate-os")
    response = admin_client.post(
        reverse("admin:maintenance_maintenancewindow_add"), window_post(service)
    )
    assert response.status_code == 302
    assert MaintenanceWindow.objects.filter(name="Extra", service=service).exists()
