"""Public pages show times in the visitor's zone once they chose it (the portal_tz cookie that
static/js/visitor-zone.js sets from the browser's zone), named; a profile zone wins; anything
that is not a zone name is ignored."""

from datetime import UTC, datetime

import pytest
import time_machine

from accounts.models import Profile
from tests import factories
from tests.incidents.factories import IncidentFactory, IncidentUpdateFactory

pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


@pytest.fixture
def incident():
    with time_machine.travel(STARTED, tick=False):
        incident = IncidentFactory(title="Payments failing", started_at=STARTED)
        IncidentUpdateFactory(incident=incident, body="Rolling back.")
    return incident


@time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=UTC), tick=False)
@pytest.mark.parametrize("path", ["/status/", "/status/incidents/{pk}/", "/status/history/"])
def test_times_follow_the_visitors_chosen_zone(client, incident, path):
    url = path.format(pk=incident.pk)
    page = client.get(url).content.decode()
    if "history" not in path:
        assert "09:15 UTC" in page
    assert "Asia/Tokyo" not in page

    client.cookies["portal_tz"] = "Asia/Tokyo"
    page = client.get(url).content.decode()
    assert "Times in <strong>Asia/Tokyo</strong>" in page
    if "history" not in path:
        assert "18:15 Asia/Tokyo" in page  # 09:15 UTC is 18:15 in Tokyo
        assert "09:15 UTC" not in page


@time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=UTC), tick=False)
def test_a_bad_cookie_is_ignored_and_a_profile_zone_wins(client, incident):
    client.cookies["portal_tz"] = "../../etc/passwd"
    assert "09:15 UTC" in client.get("/status/").content.decode()

    user = factories.CustomerFactory()
    Profile.objects.update_or_create(user=user, defaults={"timezone": "America/New_York"})
    client.force_login(user)
    client.cookies["portal_tz"] = "Asia/Tokyo"
    page = client.get("/status/").content.decode()
    assert "04:15 America/New_York" in page
    assert "Asia/Tokyo" not in page
