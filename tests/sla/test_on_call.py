"""Who is on call: weekly rotation at the plan's local handoff, layers, overrides, DST."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.on_call import on_call_for, rotation_start

NY = ZoneInfo("America/New_York")
MEMBERS = ["ann", "bob", "cat"]


@dataclass
class Override:
    layer: str
    user: str
    starts_at: datetime
    ends_at: datetime


def ny(*args):
    return datetime(*args, tzinfo=NY)


def test_layers_are_consecutive_members_and_rotate_weekly():
    """This week's secondary is next week's primary."""
    this_week = on_call_for(MEMBERS, "mon 09:00", NY, ny(2026, 1, 14, 12, 0))
    next_week = on_call_for(MEMBERS, "mon 09:00", NY, ny(2026, 1, 21, 12, 0))
    assert this_week["secondary"] == next_week["primary"]
    assert this_week["primary"] != this_week["secondary"]
    three_weeks = on_call_for(MEMBERS, "mon 09:00", NY, ny(2026, 2, 4, 12, 0))
    assert three_weeks == this_week


def test_the_handoff_is_at_the_local_time():
    """Monday 08:59 is still last week's rotation; 09:00 is the new one."""
    before = on_call_for(MEMBERS, "mon 09:00", NY, ny(2026, 1, 19, 8, 59))
    after = on_call_for(MEMBERS, "mon 09:00", NY, ny(2026, 1, 19, 9, 0))
    assert before == on_call_for(MEMBERS, "mon 09:00", NY, ny(2026, 1, 14, 12, 0))
    assert after["primary"] == before["secondary"]


@pytest.mark.parametrize(
    ("monday", "utc_hour"),
    [((2026, 3, 2), 14), ((2026, 3, 9), 13), ((2026, 11, 2), 14)],
    ids=["EST", "EDT after spring forward", "EST after fall back"],
)
def test_handoff_stays_at_0900_local_across_dst(monday, utc_hour):
    """Across US DST changes the handoff stays Monday 09:00 New York: the UTC hour moves."""
    week, began = rotation_start("mon 09:00", NY, ny(*monday, 12, 0))
    assert began == datetime(*monday, utc_hour, 0, tzinfo=UTC)
    assert began.astimezone(NY).hour == 9
    previous_week, _ = rotation_start("mon 09:00", NY, began - timedelta(seconds=1))
    assert previous_week == week - 1


def test_an_override_replaces_one_layer_for_its_span():
    at = ny(2026, 1, 14, 12, 0)
    regular = on_call_for(MEMBERS, "mon 09:00", NY, at)
    swap = Override("primary", "dan", ny(2026, 1, 14, 0, 0), ny(2026, 1, 15, 0, 0))
    covered = on_call_for(MEMBERS, "mon 09:00", NY, at, [swap])
    assert covered == {"primary": "dan", "secondary": regular["secondary"]}
    # Half-open: at its end the rotation is back.
    assert on_call_for(MEMBERS, "mon 09:00", NY, swap.ends_at, [swap]) == on_call_for(
        MEMBERS, "mon 09:00", NY, swap.ends_at
    )


def test_the_latest_override_wins():
    at = ny(2026, 1, 14, 12, 0)
    long = Override("secondary", "eve", ny(2026, 1, 10), ny(2026, 1, 20))
    short = Override("secondary", "fay", ny(2026, 1, 14), ny(2026, 1, 15))
    assert on_call_for(MEMBERS, "mon 09:00", NY, at, [short, long])["secondary"] == "fay"


def test_fewer_members_than_layers_leaves_a_layer_empty():
    """One person never holds two layers from the rotation alone."""
    assert on_call_for(["ann"], "mon 09:00", NY, ny(2026, 1, 14)) == {"primary": "ann"}
    assert on_call_for([], "mon 09:00", NY, ny(2026, 1, 14)) == {}


def test_a_handoff_in_the_spring_forward_gap_moves_to_the_first_valid_minute():
    """Sunday 02:30 does not exist on 8 March 2026 in New York: the handoff is at 03:00 EDT."""
    _, began = rotation_start("sun 02:30", NY, ny(2026, 3, 8, 12, 0))
    assert began == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_admin_shows_the_rotation_and_who_is_on_call_now(admin_client):
    """The service page lists each on-call tier's current primary and secondary."""
    from django.urls import reverse

    from tests import factories

    service = factories.ServiceFactory()
    factories.TierFactory(service=service, level=3, name="SRE", on_call=True)
    factories.EscalationPolicyFactory(service=service, on_call_handoff="mon 09:00")
    for position, name in enumerate(["ann", "bob"]):
        user = factories.StaffFactory(username=f"{name}@example.com", email=f"{name}@example.com")
        factories.OnCallMemberFactory(service=service, tier_level=3, user=user, position=position)
    page = admin_client.get(reverse("admin:sla_service_change", args=[service.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Tier 3: primary:" in text and "secondary:" in text
    assert "ann@example.com" in text and "bob@example.com" in text
