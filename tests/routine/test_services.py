"""Ticking items off with evidence, and recording DR drill results against the plan."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from routine.models import RoutineItem
from routine.services import (
    routine_item_complete,
    routine_item_record_results,
    routine_items_create,
)
from sla.models import ServiceTargets
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(clock, make_task):
    make_task(name="Log rotation", every="weekly", tier=2)
    routine_items_create()
    return RoutineItem.objects.get()


@pytest.fixture
def drill(clock, make_task, berlin):
    ServiceTargets.objects.create(
        service=berlin,
        rto="1h",
        rpo="5m",
        recovery=[{"name": "Important", "rto": "24h", "rpo": "8h"}],
    )
    make_task(name="Disaster recovery drill", every="quarterly", category="backup", tier=3)
    routine_items_create()
    return RoutineItem.objects.get()


def stored_files(settings):
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    import pathlib

    return [p for p in pathlib.Path(root).rglob("*") if p.is_file()]


def test_ticking_off_with_a_note_records_who_and_when(item, staff):
    done = routine_item_complete(item=item, by=staff[2], note="  Rotated, 3 GB freed.  ")
    item.refresh_from_db()
    assert item.done_by == staff[2]
    assert item.done_at == done.done_at is not None
    assert item.note == "Rotated, 3 GB freed."
    assert not item.evidence


def test_evidence_is_stored_under_a_generated_name(item, staff, settings):
    upload = SimpleUploadedFile("../../etc/passwd.log", b"rotated ok\n", content_type="text/plain")
    routine_item_complete(item=item, by=staff[3], evidence=upload)
    item.refresh_from_db()
    assert item.evidence_name == "passwd.log"
    assert item.evidence_size == 11
    assert item.evidence.name.endswith(item.evidence_token)
    assert "passwd" not in item.evidence.name
    assert item.evidence.read() == b"rotated ok\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("payload.exe", b"MZ", "not accepted"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_a_bad_file_is_refused_and_changes_nothing(item, staff, settings, name, content, message):
    upload = SimpleUploadedFile(name, content)
    with pytest.raises(ValidationError, match=message):
        routine_item_complete(item=item, by=staff[2], note="done", evidence=upload)
    item.refresh_from_db()
    assert item.done_at is None and item.note == "" and not item.evidence
    assert stored_files(settings) == []


def test_a_file_over_the_size_limit_is_refused(item, staff, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="limit"):
        routine_item_complete(
            item=item, by=staff[2], evidence=SimpleUploadedFile("big.txt", b"x" * 11)
        )
    item.refresh_from_db()
    assert item.done_at is None


def test_a_tick_without_note_or_evidence_is_refused(item, staff):
    with pytest.raises(ValidationError, match="Say what was done"):
        routine_item_complete(item=item, by=staff[2], note="   ")
    item.refresh_from_db()
    assert item.done_at is None


def test_an_item_is_ticked_off_once(item, staff):
    routine_item_complete(item=item, by=staff[2], note="first")
    with pytest.raises(ValidationError, match="already ticked off"):
        routine_item_complete(item=item, by=staff[3], note="second")
    item.refresh_from_db()
    assert (item.note, item.done_by) == ("first", staff[2])


def test_only_staff_of_the_owner_tier_or_above_tick_it_off(item, staff):
    with pytest.raises(PermissionDenied):
        routine_item_complete(item=item, by=staff[1], note="not mine")
    with pytest.raises(PermissionDenied):
        routine_item_complete(item=item, by=factories.CustomerFactory(), note="hi")
    item.refresh_from_db()
    assert item.done_at is None
    root = factories.UserFactory(is_staff=True, is_superuser=True)
    routine_item_complete(item=item, by=root, note="done by root")


def test_done_late_is_still_done_and_no_longer_overdue(item, staff, clock):
    clock.move_to(item.due_at + timedelta(days=2))
    routine_item_complete(item=item, by=staff[2], note="late but done")
    item.refresh_from_db()
    assert not item.is_overdue(item.due_at + timedelta(days=3))
    assert item.done_at > item.due_at


def test_drill_results_within_targets_are_met(drill, staff):
    routine_item_record_results(item=drill, by=staff[3], rto_achieved="45m", rpo_achieved="3m")
    drill.refresh_from_db()
    assert (drill.rto_achieved, drill.rpo_achieved) == (timedelta(minutes=45), timedelta(minutes=3))
    assert (drill.rto_target, drill.rpo_target) == ("1h", "5m")
    assert (drill.rto_met, drill.rpo_met) == (True, True)
    assert drill.results_recorded_by == staff[3]


def test_drill_results_over_a_target_are_missed(drill, staff):
    """RTO 1h10m against 1h: missed; RPO exactly 5m against 5m: met."""
    routine_item_record_results(item=drill, by=staff[3], rto_achieved="1h10m", rpo_achieved="5m")
    drill.refresh_from_db()
    assert (drill.rto_met, drill.rpo_met) == (False, True)
    assert drill.result_lines() == [("RTO", "1h10m", "1h", False), ("RPO", "5m", "5m", True)]


def test_a_recovery_class_holds_the_drill_to_its_own_targets(drill, staff):
    routine_item_record_results(
        item=drill,
        by=staff[3],
        rto_achieved=timedelta(hours=20),
        rpo_achieved=timedelta(hours=9),
        recovery_class="Important",
    )
    drill.refresh_from_db()
    assert (drill.recovery_class, drill.rto_target, drill.rpo_target) == ("Important", "24h", "8h")
    assert (drill.rto_met, drill.rpo_met) == (True, False)


def test_recording_again_replaces_and_rejudges(drill, staff):
    routine_item_record_results(item=drill, by=staff[3], rto_achieved="2h")
    routine_item_record_results(item=drill, by=staff[3], rto_achieved="50m")
    drill.refresh_from_db()
    assert (drill.rto_met, drill.rpo_achieved, drill.rpo_met) == (True, None, None)


def test_without_plan_targets_results_are_kept_with_no_verdict(clock, make_task, staff):
    make_task(name="Backup restoration testing", every="monthly", tier=3)
    routine_items_create()
    item = RoutineItem.objects.get()
    routine_item_record_results(item=item, by=staff[3], rto_achieved="30m", rpo_achieved="0m")
    item.refresh_from_db()
    assert (item.rto_met, item.rpo_met, item.rpo_achieved) == (None, None, timedelta(0))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rto_achieved": "soon"}, "rto_achieved"),
        ({"rto_achieved": timedelta(minutes=-5)}, "rto_achieved"),
        ({"rto_achieved": "1h", "recovery_class": "Gold"}, "recovery_class"),
        ({}, None),
    ],
)
def test_bad_results_are_refused_and_change_nothing(drill, staff, kwargs, field):
    with pytest.raises(ValidationError) as error:
        routine_item_record_results(item=drill, by=staff[3], **kwargs)
    if field:
        assert field in error.value.message_dict
    else:
        assert error.value.messages == ["Give the RTO achieved, the RPO achieved, or both."]
    drill.refresh_from_db()
    assert drill.results_recorded_at is None and drill.rto_achieved is None


def test_results_belong_to_drills_only(item, staff):
    with pytest.raises(ValidationError, match="not a DR drill"):
        routine_item_record_results(item=item, by=staff[3], rto_achieved="1h")
