"""The calendar feed: valid RFC 5545 that calendar apps expand to what window_occurrences says."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar

from maintenance.selectors import window_occurrences
from maintenance.services import occurrence_cancel, occurrence_move
from tests.maintenance.conftest import NOW, make_policy, make_window

START, END = NOW, datetime(2028, 1, 1, tzinfo=UTC)


def expand_like_a_client(ics_bytes, start, end):
    """Expand the feed as RFC 5545 says (what Google/Outlook/Apple do): RRULE from DTSTART in
    its TZID, EXDATEs out, RECURRENCE-ID overrides in, fixed length; STATUS:CANCELLED out."""
    cal = Calendar.from_ical(ics_bytes)
    masters, overrides, found = {}, {}, []
    for event in cal.walk("VEVENT"):
        uid = str(event["UID"])
        if "RECURRENCE-ID" in event:
            rid = event["RECURRENCE-ID"].dt
            overrides[(uid, rid.replace(tzinfo=None))] = event
        else:
            masters[uid] = event
    for uid, event in masters.items():
        dtstart, dtend = event["DTSTART"].dt, event["DTEND"].dt
        tz = dtstart.tzinfo
        length = dtend.astimezone(UTC) - dtstart.astimezone(UTC)
        if "RRULE" not in event:
            if str(event.get("STATUS", "")) != "CANCELLED":
                found.append((dtstart.astimezone(UTC), dtend.astimezone(UTC)))
            continue
        exdates = set()
        for group in (
            event.get("EXDATE", [])
            if isinstance(event.get("EXDATE"), list)
            else [event.get("EXDATE")]
        ):
            if group is not None:
                exdates |= {d.dt.replace(tzinfo=None) for d in group.dts}
        rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=dtstart.replace(tzinfo=None))
        low = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=2)
        high = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=2)
        for local in rule.between(low, high, inc=True):
            if local in exdates:
                continue
            override = overrides.pop((uid, local), None)
            if override is not None:
                found.append(
                    (override["DTSTART"].dt.astimezone(UTC), override["DTEND"].dt.astimezone(UTC))
                )
                continue
            begins = local.replace(tzinfo=tz).astimezone(UTC)
            found.append((begins, begins + length))
    return sorted((s, e) for s, e in found if s < end and e > start)


@pytest.fixture
def legacy(clock, service):
    """Legacy-like: Sunday 02:00–06:00 America/New_York, plus a one-off, a cancellation and
    a move."""
    service.timezone = "America/New_York"
    service.save(update_fields=["timezone"])
    make_policy(service, allowed="02:00-06:00 America/New_York")
    window = make_window(service, start=time(2), duration="4h", timezone="America/New_York")
    make_window(
        service,
        name="Data centre move",
        rrule="",
        date=date(2027, 5, 2),
        start=time(2),
        duration="3h",
        timezone="America/New_York",
    )
    occurrence_cancel(window=window, starts_at=datetime(2027, 1, 17, 7, tzinfo=UTC), by=None)
    occurrence_move(
        window=window,
        starts_at=datetime(2027, 1, 24, 7, tzinfo=UTC),
        new_start=datetime(2027, 1, 24, 8, tzinfo=UTC),  # 03:00–06:00 local: in the slot
        new_end=datetime(2027, 1, 24, 11, tzinfo=UTC),
        by=None,
    )
    return window


def test_feed_parses_back_to_the_same_occurrences(client, legacy, service):
    """Rule, EXDATE for the cancellation, RECURRENCE-ID for the move and for the DST nights:
    a client's expansion equals window_occurrences for a year, spring gap included."""
    response = client.get(f"/maintenance/{service.slug}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    expected = sorted(
        (o.starts_at, o.ends_at)
        for o in window_occurrences(service=service, start=START, end=END)
        if not o.cancelled
    )
    assert expand_like_a_client(response.content, START, END) == expected
    # The spring-forward Sunday: 03:00–06:00 EDT, not RFC's 03:00–07:00.
    assert (datetime(2027, 3, 14, 7, tzinfo=UTC), datetime(2027, 3, 14, 10, tzinfo=UTC)) in expected


def test_feed_has_stable_uids_tzid_and_a_vtimezone(client, legacy, service):
    """UIDs do not change between fetches; times carry TZID with a matching VTIMEZONE."""
    first = Calendar.from_ical(client.get(f"/maintenance/{service.slug}.ics").content)
    second = Calendar.from_ical(client.get(f"/maintenance/{service.slug}.ics").content)
    uids = {str(e["UID"]) for e in first.walk("VEVENT")}
    assert uids == {str(e["UID"]) for e in second.walk("VEVENT")}
    assert len(uids) == 2
    assert [str(tz["TZID"]) for tz in first.walk("VTIMEZONE")] == ["America/New_York"]
    master = next(e for e in first.walk("VEVENT") if "RRULE" in e)
    assert master["DTSTART"].params["TZID"] == "America/New_York"
    assert "EXDATE" in master
    text = first.to_ical().decode()
    assert "RRULE:FREQ=WEEKLY;BYDAY=SU" in text


def test_a_cancelled_one_off_is_marked_cancelled(client, clock, service):
    """A one-off window cancelled: its event says STATUS:CANCELLED so calendars drop it."""
    window = make_window(service, name="Once", rrule="", date=date(2027, 2, 1), start=time(2))
    occurrence_cancel(window=window, starts_at=datetime(2027, 2, 1, 2, tzinfo=UTC), by=None)
    cal = Calendar.from_ical(client.get(f"/maintenance/{service.slug}.ics").content)
    (event,) = cal.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_unknown_service_feed_is_404(client, db):
    assert client.get("/maintenance/nope.ics").status_code == 404
