"""The public calendar and status pages."""

from datetime import date, time, timedelta

import pytest

from maintenance.services import occurrence_cancel
from tests import factories
from tests.maintenance.conftest import SUNDAY, make_policy, make_window


@pytest.fixture
def two_services(db, clock):
    xsafe = factories.ServiceFactory(slug="xsafe-erp", name="XSafe ERP")
    roofing = factories.ServiceFactory(
        slug="roofing", name="Roofing Platform", timezone="America/New_York"
    )
    make_policy(xsafe)
    make_policy(roofing, notices=["7d", "48h"])
    make_window(xsafe)
    make_window(
        roofing,
        name="Security updates",
        rrule="FREQ=MONTHLY;BYDAY=+1MO",
        duration="4h",
        timezone="America/New_York",
        impact="Security updates and patches",
    )
    return xsafe, roofing


def test_calendar_lists_three_months_and_a_month_grid(
    client, two_services, django_assert_max_num_queries
):
    """Every service's windows of the coming three months, in list and grid, few queries."""
    with django_assert_max_num_queries(6):
        response = client.get("/maintenance/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sun 10 Jan 2027, 02:00–04:00" in html
    assert "Mon 1 Feb 2027, 02:00–06:00" in html  # first Monday, New York time
    assert "Mon 5 Apr 2027" not in html  # beyond three months (Jan–Mar)
    assert "January 2027" in html and "March 2027" in html and "April 2027" not in html
    assert html.count('class="maintenance-dot') >= 12


def test_calendar_filters_by_service(client, two_services):
    """?service=<slug> shows that service only, with its .ics link."""
    html = client.get("/maintenance/?service=roofing").content.decode()
    assert "Security updates" in html and "Scheduled downtime" not in html
    assert "/maintenance/roofing.ics" in html
    assert client.get("/maintenance/?service=nope").status_code == 404


def test_calendar_shows_cancelled_occurrences_struck_out(client, two_services):
    xsafe, _ = two_services
    window = xsafe.maintenance_windows.get()
    occurrence_cancel(window=window, starts_at=SUNDAY, by=None)
    html = client.get("/maintenance/?service=xsafe-erp").content.decode()
    assert "Cancelled" in html


def test_status_page_switches_to_maintenance_by_itself(client, clock, two_services):
    """Operational before; "maintenance in progress" during the window; operational after —
    and the page asks the browser to reload every minute."""
    response = client.get("/status/")
    assert response["Refresh"] == "60"
    html = response.content.decode()
    assert 'data-service="xsafe-erp" data-state="operational"' in html
    assert "Upcoming: Scheduled downtime, Sun 10 Jan, 02:00–04:00 UTC" in html
    clock.move_to(SUNDAY + timedelta(minutes=5))
    html = client.get("/status/").content.decode()
    assert 'data-service="xsafe-erp" data-state="maintenance"' in html
    assert "Maintenance in progress" in html
    assert 'data-service="roofing" data-state="operational"' in html
    clock.move_to(SUNDAY + timedelta(hours=2))
    assert 'data-state="maintenance"' not in client.get("/status/").content.decode()


def test_status_json(client, clock, two_services):
    clock.move_to(SUNDAY + timedelta(minutes=5))
    data = client.get("/status/status.json").json()
    states = {s["slug"]: s["state"] for s in data["services"]}
    assert states == {"xsafe-erp": "maintenance", "roofing": "operational"}


def test_status_page_has_the_subscription_form(client, two_services):
    html = client.get("/status/").content.decode()
    assert 'action="/maintenance/subscribe/"' in html and 'name="email"' in html


def test_one_off_in_calendar(client, clock, service):
    """A one-off across midnight is listed once, with its end on the next day."""
    make_window(
        service,
        name="Data centre move",
        rrule="",
        date=date(2027, 2, 3),
        start=time(22),
        duration="4h",
    )
    html = client.get("/maintenance/").content.decode()
    assert "Wed 3 Feb 2027, 22:00–Thu 4 Feb, 02:00" in html
