"""Staff admin: windows with next occurrences, cancel and move one, notice rounds, resend."""

from datetime import time, timedelta

import pytest
from django.urls import reverse

from maintenance.models import NoticeRound, OccurrenceException
from maintenance.notices import notices_send_due
from notifications.models import Notification
from tests.maintenance.conftest import SUNDAY, make_policy, make_window, subscribe_customers

STAMP = SUNDAY.strftime("%Y%m%dT%H%M%SZ")


@pytest.fixture
def staff(clock, client, admin_user):
    """A superuser signed in at the pinned time (a session from today expires by 2027)."""
    client.force_login(admin_user)
    return client


def test_window_list_and_page_show_next_occurrences(staff, weekly, django_assert_max_num_queries):
    """The changelist shows each window's next occurrence (no N+1); the page lists the next
    ones with cancel and move links."""
    for n in range(5):
        make_window(weekly.service, name=f"Extra {n}")
    with django_assert_max_num_queries(12):
        response = staff.get(reverse("admin:maintenance_maintenancewindow_changelist"))
    assert "Sun 2027-01-10 02:00 UTC" in response.content.decode()
    html = staff.get(
        reverse("admin:maintenance_maintenancewindow_change", args=[weekly.pk])
    ).content.decode()
    assert "Next occurrences" in html
    assert reverse("admin:maintenance_occurrence_cancel", args=[weekly.pk, STAMP]) in html


def test_staff_cancel_one_occurrence(staff, weekly):
    """The intermediate form cancels that one occurrence, with the reason."""
    url = reverse("admin:maintenance_occurrence_cancel", args=[weekly.pk, STAMP])
    assert staff.get(url).status_code == 200
    response = staff.post(url, {"reason": "Nothing to deploy"})
    assert response.status_code == 302
    exception = OccurrenceException.objects.get()
    assert exception.cancelled and exception.original_start == SUNDAY
    assert exception.reason == "Nothing to deploy"


def test_staff_move_one_occurrence(staff, weekly):
    """Moving keeps the occurrence's name (original start) and sets the new local time."""
    url = reverse("admin:maintenance_occurrence_move", args=[weekly.pk, STAMP])
    assert staff.get(url).status_code == 200
    response = staff.post(
        url, {"date": "2027-01-10", "start": "05:00", "minutes": "90", "reason": "Vendor"}
    )
    assert response.status_code == 302
    exception = OccurrenceException.objects.get()
    assert exception.new_start == SUNDAY + timedelta(hours=3)
    assert exception.new_end == SUNDAY + timedelta(hours=4, minutes=30)


def test_a_move_outside_the_allowed_slot_is_refused_with_the_loaders_message(staff, clock, service):
    """The plan's `allowed` slot applies to a move as it does to the window."""
    make_policy(service, allowed="02:00-06:00 America/New_York")
    window = make_window(service, start=time(2), duration="4h", timezone="America/New_York")
    stamp = (SUNDAY + timedelta(hours=5)).strftime("%Y%m%dT%H%M%SZ")  # 02:00 EST = 07:00 UTC
    url = reverse("admin:maintenance_occurrence_move", args=[window.pk, stamp])
    response = staff.post(url, {"date": "2027-01-10", "start": "04:00", "minutes": "240"})
    assert response.status_code == 200
    assert "outside the allowed slot 02:00-06:00 America/New_York" in response.content.decode()
    assert not OccurrenceException.objects.exists()


def test_unknown_occurrence_is_404(staff, weekly):
    url = reverse("admin:maintenance_occurrence_cancel", args=[weekly.pk, "20270111T020000Z"])
    assert staff.get(url).status_code == 404


def test_notice_rounds_show_counts_and_resend_failed(staff, clock, weekly, service):
    """Each round shows recorded / sent / failed; "resend failed" re-queues only failed rows."""
    subscribe_customers(service, 3)
    clock.move_to(SUNDAY - timedelta(hours=48))
    notices_send_due()
    keys = list(Notification.objects.order_by("key").values_list("key", flat=True))
    Notification.objects.filter(key=keys[0]).update(status=Notification.Status.FAILED)
    Notification.objects.filter(key=keys[1]).update(status=Notification.Status.SENT)
    response = staff.get(reverse("admin:maintenance_noticeround_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<td class="field-recorded">3</td>' in html
    assert '<td class="field-sent_count">1</td>' in html
    assert '<td class="field-failed_count">1</td>' in html
    rnd = NoticeRound.objects.get()
    staff.post(
        reverse("admin:maintenance_noticeround_changelist"),
        {"action": "resend_failed", "_selected_action": [rnd.pk]},
    )
    statuses = dict(Notification.objects.values_list("key", "status"))
    assert statuses[keys[0]] == Notification.Status.PENDING
    assert statuses[keys[1]] == Notification.Status.SENT


@pytest.mark.parametrize("model", ["occurrenceexception", "subscription", "noticeround"])
def test_other_maintenance_admin_pages_load(staff, weekly, model):
    assert staff.get(reverse(f"admin:maintenance_{model}_changelist")).status_code == 200


def test_a_one_off_is_edited_on_its_page_and_cancelled_like_any_occurrence(staff, clock, service):
    """A one-off window's page lists its single occurrence; cancelling it works the same way."""
    from datetime import UTC, date, datetime

    window = make_window(service, name="Data centre move", rrule="", date=date(2027, 2, 3))
    html = staff.get(
        reverse("admin:maintenance_maintenancewindow_change", args=[window.pk])
    ).content.decode()
    assert "Wed 2027-02-03 02:00" in html
    stamp = datetime(2027, 2, 3, 2, tzinfo=UTC).strftime("%Y%m%dT%H%M%SZ")
    staff.post(reverse("admin:maintenance_occurrence_cancel", args=[window.pk, stamp]), {})
    assert OccurrenceException.objects.get(window=window).cancelled


def test_the_beat_task_runs_the_sweep(clock, weekly, service):
    """maintenance.tasks.send_maintenance_notices is the sweep (beat, every minute)."""
    from maintenance.tasks import send_maintenance_notices

    subscribe_customers(service, 2)
    clock.move_to(SUNDAY - timedelta(hours=48))
    assert send_maintenance_notices() == 2
    assert send_maintenance_notices() == 0
