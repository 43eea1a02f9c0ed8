"""Staff work the checklist in admin: scoped by tier, every write through the services."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from routine.models import RoutineItem
from routine.services import routine_item_complete, routine_items_create
from sla.models import ServiceTargets
from tests import factories
from tests.routine.factories import RoutineTaskFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:routine_routineitem_changelist")


def change_url(item):
    return reverse("admin:routine_routineitem_change", args=[item.pk])


def listed(response):
    return {item.pk for item in response.context["cl"].result_list}


@pytest.fixture
def items(clock, make_task, berlin):
    """One weekly item per owner tier, and a quarterly DR drill of Tier 3."""
    ServiceTargets.objects.create(
        service=berlin,
        rto="1h",
        rpo="5m",
        recovery=[{"name": "Important", "rto": "24h", "rpo": "8h"}],
    )
    for tier in (1, 2, 3):
        make_task(name=f"Chore of tier {tier}", every="weekly", tier=tier)
    make_task(name="Disaster recovery drill", every="quarterly", category="backup", tier=3)
    routine_items_create()
    return {str(item): item for item in RoutineItem.objects.select_related("task")}


def by_name(items, name):
    return next(item for key, item in items.items() if key.startswith(name))


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def test_a_tier_member_sees_items_of_their_tier_and_below(client, items, staff):
    client.force_login(staff[2])
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert listed(response) == {
        by_name(items, "Chore of tier 1").pk,
        by_name(items, "Chore of tier 2").pk,
    }


def test_superusers_and_tier_3_see_every_item(client, items, staff, superuser):
    for user in (staff[3], superuser):
        client.force_login(user)
        assert listed(client.get(CHANGELIST)) == {item.pk for item in items.values()}


def test_staff_without_a_tier_and_customers_see_nothing(client, items):
    client.force_login(factories.StaffFactory())
    assert client.get(CHANGELIST).status_code == 403
    client.force_login(factories.CustomerFactory())
    assert client.get(CHANGELIST).status_code == 302  # to the admin login


def test_an_item_of_a_higher_tier_does_not_exist_for_a_lower_tier(client, items, staff):
    drill = by_name(items, "Disaster recovery drill")
    client.force_login(staff[1])
    response = client.get(change_url(drill))
    assert response.status_code == 302  # Django's "doesn't exist" redirect to the admin index
    response = client.post(change_url(drill), {"mark_done": "on", "done_note": "sneaky"})
    drill.refresh_from_db()
    assert drill.done_at is None


def test_the_list_shows_the_overdue_marker_and_due_in_local_time(client, items, staff, clock):
    weekly = by_name(items, "Chore of tier 1")
    clock.move_to(weekly.due_at + timedelta(days=2))
    client.force_login(staff[3])
    page = client.get(CHANGELIST).content.decode()
    assert "Chore of tier 1 — week 48 2026" in page
    assert "end of Sun 29 Nov 2026 (Europe/Berlin)" in page
    assert page.count('class="routine-overdue"') == 3  # the three weekly items
    assert page.count('class="routine-open"') == 1  # the quarter is not over


def filtered(client, query):
    return listed(client.get(CHANGELIST + "?" + query))


def test_filters_by_state_tier_period_service_and_drill(client, items, staff, clock):
    tier1, tier2, tier3 = (by_name(items, f"Chore of tier {n}") for n in (1, 2, 3))
    drill = by_name(items, "Disaster recovery drill")
    routine_item_complete(item=tier1, by=staff[1], note="done")
    other_service = RoutineTaskFactory(service=factories.ServiceFactory(), every="monthly")
    routine_items_create()
    other = RoutineItem.objects.get(task=other_service)
    clock.move_to(tier2.due_at + timedelta(hours=1))
    client.force_login(staff[3])
    assert filtered(client, "state=overdue") == {tier2.pk, tier3.pk}
    assert filtered(client, "state=done") == {tier1.pk}
    assert filtered(client, "state=open") == {drill.pk, other.pk}
    assert filtered(client, "tier=2") == {tier2.pk}
    assert filtered(client, "every__exact=quarterly") == {drill.pk}
    assert filtered(client, f"service__id__exact={other.service_id}") == {other.pk}
    assert filtered(client, "drill=all") == {drill.pk}
    assert filtered(client, "drill=none") == {drill.pk}


def test_the_tier_filter_offers_only_the_tiers_a_member_sees(client, items, staff):
    client.force_login(staff[1])
    page = client.get(CHANGELIST).content.decode()
    assert "?tier=1" in page and "?tier=2" not in page


def test_the_changelist_runs_a_constant_number_of_queries(client, staff, clock, berlin):
    """1 item or 40 (some done by someone, some drills with results): the same queries."""
    client.force_login(staff[3])
    RoutineTaskFactory(service=berlin, tier=3)
    routine_items_create()
    with CaptureQueriesContext(connection) as one:
        assert len(listed(client.get(CHANGELIST))) == 1
    for n in range(39):
        RoutineTaskFactory(
            service=factories.ServiceFactory() if n % 3 else berlin,
            name=f"Disaster recovery drill {n}" if n % 4 == 0 else f"chore {n}",
            tier=1 + n % 3,
            every=["weekly", "monthly", "quarterly"][n % 3],
        )
    routine_items_create()
    for n, item in enumerate(RoutineItem.objects.order_by("pk")):
        if n % 2:
            routine_item_complete(item=item, by=factories.StaffFactory(tier=3), note="done")
    with CaptureQueriesContext(connection) as forty:
        assert len(listed(client.get(CHANGELIST))) == 40
    assert len(forty.captured_queries) == len(one.captured_queries)


def test_marking_done_on_the_change_page_with_a_note_and_evidence(client, items, staff):
    item = by_name(items, "Chore of tier 2")
    client.force_login(staff[2])
    assert client.get(change_url(item)).status_code == 200
    upload = SimpleUploadedFile("report.pdf", b"%PDF-1.4 ok", content_type="application/pdf")
    response = client.post(
        change_url(item), {"mark_done": "on", "done_note": "Rotated.", "done_evidence": upload}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.done_by, item.note, item.evidence_name) == (staff[2], "Rotated.", "report.pdf")
    # The done page shows the evidence; the file downloads for staff in scope only.
    page = client.get(change_url(item)).content.decode()
    evidence = reverse("admin:routine_routineitem_evidence", args=[item.pk])
    assert evidence in page
    download = client.get(evidence)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 ok"
    assert download["Content-Disposition"].startswith("attachment")
    client.force_login(staff[1])
    assert client.get(evidence).status_code == 404


def test_a_bad_file_on_the_change_page_is_an_error_and_changes_nothing(client, items, staff):
    item = by_name(items, "Chore of tier 2")
    client.force_login(staff[2])
    upload = SimpleUploadedFile("run.sh", b"rm -rf /", content_type="text/x-sh")
    response = client.post(
        change_url(item), {"mark_done": "on", "done_note": "done", "done_evidence": upload}
    )
    assert response.status_code == 200
    assert "are not accepted" in response.content.decode()
    item.refresh_from_db()
    assert item.done_at is None and item.note == "" and not item.evidence


def test_marking_done_without_note_or_file_is_an_error(client, items, staff):
    item = by_name(items, "Chore of tier 2")
    client.force_login(staff[2])
    response = client.post(change_url(item), {"mark_done": "on", "done_note": ""})
    assert response.status_code == 200
    assert "Say what was done" in response.content.decode()
    item.refresh_from_db()
    assert item.done_at is None


def test_drill_results_are_recorded_with_met_and_missed(client, items, staff):
    drill = by_name(items, "Disaster recovery drill")
    client.force_login(staff[3])
    page = client.get(change_url(drill)).content.decode()
    assert "RTO achieved" in page and "Important" in page
    response = client.post(
        change_url(drill),
        {
            "recovery_class_choice": "",
            "rto_input": "50m",
            "rpo_input": "12m",
            "mark_done": "on",
            "done_note": "Failover to eu-west-1 took 50 minutes.",
        },
    )
    assert response.status_code == 302
    drill.refresh_from_db()
    assert (drill.rto_met, drill.rpo_met, drill.done_by) == (True, False, staff[3])
    page = client.get(change_url(drill)).content.decode()
    assert "RTO 50m (target 1h)" in page and 'class="routine-met">met<' in page
    assert "RPO 12m (target 5m)" in page and 'class="routine-missed">missed<' in page
    listing = client.get(CHANGELIST + "?drill=missed")
    assert listed(listing) == {drill.pk}


def test_unreadable_drill_times_are_a_form_error(client, items, staff):
    drill = by_name(items, "Disaster recovery drill")
    client.force_login(staff[3])
    response = client.post(change_url(drill), {"rto_input": "about an hour", "rpo_input": ""})
    assert response.status_code == 200
    assert "is not a time" in response.content.decode()
    drill.refresh_from_db()
    assert drill.results_recorded_at is None


def test_a_failing_service_saves_nothing_of_the_change(client, items, staff):
    """Results and tick-off stand or fall together: a refused tick (done meanwhile) keeps the
    results out as well."""
    drill = by_name(items, "Disaster recovery drill")
    client.force_login(staff[3])
    page_form = {"rto_input": "30m", "rpo_input": "1m", "mark_done": "on", "done_note": "again"}
    routine_item_complete(item=drill, by=staff[3], note="done first elsewhere")
    # The page was opened before the item was ticked off elsewhere.
    response = client.post(change_url(drill), page_form, follow=True)
    assert "Nothing was saved" in response.content.decode()
    drill.refresh_from_db()
    assert drill.note == "done first elsewhere" and drill.results_recorded_at is None


def test_the_mark_done_action_asks_for_a_note_then_ticks_each_item(client, items, staff):
    tier1, tier2 = by_name(items, "Chore of tier 1"), by_name(items, "Chore of tier 2")
    client.force_login(staff[2])
    selected = {"action": "mark_done", "_selected_action": [tier1.pk, tier2.pk]}
    page = client.post(CHANGELIST, selected)
    assert page.status_code == 200
    assert "Chore of tier 1 — week 48 2026" in page.content.decode()
    assert not RoutineItem.objects.filter(done_at__isnull=False).exists()
    empty = client.post(CHANGELIST, {**selected, "apply": "yes", "note": ""})
    assert "Say what was done" in empty.content.decode()
    upload = SimpleUploadedFile("checklist.txt", b"all green")
    response = client.post(
        CHANGELIST, {**selected, "apply": "yes", "note": "Both checked.", "evidence": upload}
    )
    assert response.status_code == 302
    for item in (tier1, tier2):
        item.refresh_from_db()
        assert (item.note, item.done_by, item.evidence_name) == (
            "Both checked.",
            staff[2],
            "checklist.txt",
        )
        assert item.evidence.read() == b"all green"


def test_the_action_refuses_a_bad_file_and_ticks_nothing(client, items, staff):
    tier1 = by_name(items, "Chore of tier 1")
    client.force_login(staff[1])
    response = client.post(
        CHANGELIST,
        {
            "action": "mark_done",
            "_selected_action": [tier1.pk],
            "apply": "yes",
            "note": "done",
            "evidence": SimpleUploadedFile("virus.exe", b"MZ"),
        },
    )
    assert response.status_code == 200
    assert "are not accepted" in response.content.decode()
    tier1.refresh_from_db()
    assert tier1.done_at is None


def test_the_action_reports_items_already_done(client, items, staff):
    tier1, tier2 = by_name(items, "Chore of tier 1"), by_name(items, "Chore of tier 2")
    routine_item_complete(item=tier1, by=staff[1], note="earlier")
    client.force_login(staff[2])
    response = client.post(
        CHANGELIST,
        {
            "action": "mark_done",
            "_selected_action": [tier1.pk, tier2.pk],
            "apply": "yes",
            "note": "now",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "already ticked off" in text and "1 item done" in text
    tier1.refresh_from_db()
    assert tier1.note == "earlier"


def test_task_names_and_notes_are_text_in_the_list_and_the_action_message(
    client, clock, make_task, staff
):
    make_task(name="Check <script>alert(1)</script>", every="weekly", tier=1)
    routine_items_create()
    item = RoutineItem.objects.get()
    client.force_login(staff[1])
    page = client.get(CHANGELIST).content.decode()
    assert "<script>alert(1)" not in page and "Check &lt;script&gt;alert(1)" in page
    response = client.post(
        CHANGELIST,
        {
            "action": "mark_done",
            "_selected_action": [item.pk],
            "apply": "yes",
            "note": "<img src=x onerror=alert(2)>",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "1 item done" in text and "<script>alert(1)" not in text
    page = client.get(change_url(item)).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_items_are_made_by_beat_not_added_or_deleted_by_staff(client, items, staff):
    client.force_login(staff[3])
    assert client.get(reverse("admin:routine_routineitem_add")).status_code == 403
    item = by_name(items, "Chore of tier 1")
    assert (
        client.get(reverse("admin:routine_routineitem_delete", args=[item.pk])).status_code == 403
    )
