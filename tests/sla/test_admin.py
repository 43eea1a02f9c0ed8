"""Staff see and edit plans in admin, refused by the same rules and messages as load_plan."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from sla.models import (
    Calendar,
    EscalationPolicy,
    IncidentPolicy,
    Priority,
    Service,
    ServiceTargets,
    SupportContract,
    Tier,
)
from sla.plan import PlanInvalid, parse_plan

PLANS = Path(__file__).resolve().parents[2] / "plans"
MODELS = [
    Service,
    Calendar,
    Priority,
    Tier,
    EscalationPolicy,
    IncidentPolicy,
    SupportContract,
    ServiceTargets,
]


@pytest.fixture
def loaded(db):
    call_command("load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO())


def loader_message(text):
    """The message load_plan gives for ``text`` (its single error)."""
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text, "x.yaml")
    (error,) = caught.value.errors
    return error.message


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_pages_load(admin_client, loaded, model, django_assert_max_num_queries):
    """Changelist (with a bounded number of queries), add and change pages load for each model."""
    info = model._meta.app_label, model._meta.model_name
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200
    obj = model.objects.order_by("pk").last()
    url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
    assert admin_client.get(url).status_code == 200


def test_calendar_change_page_shows_hours_as_in_a_plan(admin_client, loaded):
    """The hours field reads like the plan file: one line per weekday range."""
    calendar = Calendar.objects.get(service__slug="roofing-platform", name="extended-hours")
    response = admin_client.get(reverse("admin:sla_calendar_change", args=[calendar.pk]))
    assert "mon-fri: 07:00-21:00\nsat: 09:00-17:00" in response.content.decode()


def calendar_post(service, hours):
    return {
        "service": service.pk,
        "name": "night",
        "timezone": "UTC",
        "hours": hours,
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
    }


def test_admin_refuses_inverted_hours_with_the_loaders_message(admin_client, loaded):
    """Inverted business hours are refused in admin with the message load_plan gives."""
    service = Service.objects.get(slug="xsafe-erp")
    response = admin_client.post(
        reverse("admin:sla_calendar_add"), calendar_post(service, "mon-fri: 18:00-09:00")
    )
    assert response.status_code == 200
    expected = loader_message(
        (PLANS / "xsafe-erp.yaml")
        .read_text()
        .replace(
            "priorities:",
            'calendars:\n  night:\n    hours:\n      mon-fri: "18:00-09:00"\npriorities:',
            1,
        )
    )
    assert "the end must be after the start" in expected
    assert escape(expected) in response.content.decode()
    assert not Calendar.objects.filter(name="night").exists()


def test_admin_refuses_overlapping_hours(admin_client, loaded):
    """Overlaps through a range (mon-fri and wed) are refused as in the loader."""
    service = Service.objects.get(slug="xsafe-erp")
    response = admin_client.post(
        reverse("admin:sla_calendar_add"),
        calendar_post(service, "mon-fri: 09:00-18:00\nwed: 12:00-20:00"),
    )
    assert escape("wed: 12:00-20:00 overlaps 09:00-18:00 (from 'mon-fri')") in (
        response.content.decode()
    )


def test_admin_saves_valid_hours(admin_client, loaded):
    """Valid hours are stored in the canonical per-weekday form the SLA clock reads."""
    service = Service.objects.get(slug="xsafe-erp")
    response = admin_client.post(
        reverse("admin:sla_calendar_add"),
        calendar_post(service, "mon-wed: 22:00-24:00, 00:00-06:00"),
    )
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="night")
    assert calendar.hours["tue"] == [["00:00", "06:00"], ["22:00", "24:00"]]


def test_admin_refuses_bad_warn_at(admin_client, loaded):
    """warn_at outside 1–99 % is refused in admin as in the loader."""
    policy = EscalationPolicy.objects.get(service__slug="xsafe-erp")
    response = admin_client.post(
        reverse("admin:sla_escalationpolicy_change", args=[policy.pk]),
        {
            "service": policy.service_id,
            "warn_at": "100",
            "management_chain": "[]",
            "management_interval": "",
            "pause_statuses": '["waiting_on_customer"]',
            "on_call_handoff": "mon 09:00",
            "on_call_layers": '["primary"]',
        },
    )
    assert response.status_code == 200
    assert "must be between 1 and 99" in response.content.decode()


def test_admin_refuses_bad_priority_duration(admin_client, loaded):
    """A priority's response "15x" is refused with the loader's duration message."""
    priority = Priority.objects.get(service__slug="xsafe-erp", code="P0")
    response = admin_client.post(
        reverse("admin:sla_priority_change", args=[priority.pk]),
        {
            "service": priority.service_id,
            "code": "P0",
            "name": "Critical",
            "response": "15x",
            "resolution": "4h",
            "calendar": priority.calendar_id,
            "start_tier": "1",
            "position": "0",
        },
    )
    assert escape("'15x' is not a duration") in response.content.decode()


def test_service_customers_inline(admin_client, loaded, customer):
    """Staff link customers to a service on the service page (autocomplete on users)."""
    service = Service.objects.get(slug="xsafe-erp")
    response = admin_client.get(reverse("admin:sla_service_change", args=[service.pk]))
    assert "memberships-TOTAL_FORMS" in response.content.decode()
    assert "admin-autocomplete" in response.content.decode()
