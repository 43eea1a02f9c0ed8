"""The public history (paged, per service), each published incident's page with its published
post-mortem (404 for a draft), the Atom feed (RFC 4287) and the SVG badges; drafts nowhere."""

import re
from datetime import date, time, timedelta
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.urls import reverse

from incidents import services
from tests import factories
from tests.incidents.factories import IncidentFactory, IncidentPolicyFactory
from tests.maintenance.conftest import make_window

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def parse_own(content):
    """Parse a document the portal itself just rendered (trusted): well-formed, or raise."""
    return ET.fromstring(content)  # noqa: S314


@pytest.fixture
def people(db):
    return factories.StaffFactory(tier=1), factories.StaffFactory(tier=2)


def incident(service, title, *, by, publisher, resolve=True, publish=True, body="Looking"):
    IncidentPolicyFactory(service=service)
    severity = service.priorities.first() or factories.PriorityFactory(service=service)
    found = services.incident_open(service=service, severity=severity, title=title, by=by)
    services.incident_post_update(incident=found, body=body, public=True, by=by)
    if publish:
        services.incident_publish(incident=found, by=publisher)
    if resolve:
        services.incident_resolve(incident=found, by=by)
    return found


def test_history_pages_past_incidents_per_service_and_lists_completed_maintenance(
    client, clock, people
):
    staff, publisher = people
    api = factories.ServiceFactory(slug="api", name="API")
    erp = factories.ServiceFactory(slug="erp", name="ERP")
    for n in range(23):
        incident(api, f"API incident {n:02d}", by=staff, publisher=publisher)
        clock.shift(timedelta(minutes=1))
    incident(erp, "ERP incident", by=staff, publisher=publisher)
    incident(erp, "ERP draft", by=staff, publisher=publisher, publish=False)
    incident(erp, "ERP still open", by=staff, publisher=publisher, resolve=False)
    make_window(erp, name="Disk swap", date=date(2027, 1, 3), start=time(2, 0), duration="1h")

    first = client.get("/status/history/").text
    assert "ERP incident" in first and "API incident 22" in first
    assert "ERP draft" not in first and "ERP still open" not in first
    assert "API incident 00" not in first  # 25 past incidents, 20 a page
    second = client.get("/status/history/", {"page": 2}).text
    assert "API incident 00" in second and "ERP incident" not in second
    assert "ERP: Disk swap" in first

    only_erp = client.get("/status/history/", {"service": "erp"}).text
    assert "ERP incident" in only_erp and "API incident" not in only_erp
    assert "Disk swap" in only_erp
    assert "Disk swap" not in client.get("/status/history/", {"service": "api"}).text


def test_an_incident_page_shows_its_updates_and_published_postmortem(client, clock, people):
    staff, publisher = people
    service = factories.ServiceFactory(slug="api", name="API")
    shown = incident(service, "Login errors", by=staff, publisher=publisher, body="Rolled back")
    services.incident_post_update(incident=shown, body="Internal: DBA", public=False, by=staff)
    url = reverse("status_incident", args=[shown.pk])
    html = client.get(url).text
    assert "Login errors" in html and "Rolled back" in html and "Internal: DBA" not in html
    assert "Post-mortem" not in html

    services.postmortem_save(incident=shown, by=staff, summary="Bad deploy", root_cause="A bug")
    assert "Bad deploy" not in client.get(url).text  # written, not published
    services.postmortem_complete(incident=shown, by=staff)
    services.postmortem_publish(incident=shown, by=staff)
    html = client.get(url).text
    assert "Post-mortem" in html and "Bad deploy" in html and "A bug" in html

    draft = incident(service, "Draft one", by=staff, publisher=publisher, publish=False)
    assert client.get(reverse("status_incident", args=[draft.pk])).status_code == 404
    assert client.get(reverse("status_incident", args=[99999])).status_code == 404


def test_the_atom_feed_is_well_formed_rfc_4287_with_published_updates_and_maintenance(
    client, clock, people
):
    staff, publisher = people
    service = factories.ServiceFactory(slug="api", name="API & Co")
    shown = incident(service, "Login <errors>", by=staff, publisher=publisher, resolve=False)
    incident(service, "Secret draft", by=staff, publisher=publisher, publish=False)
    services.incident_post_update(incident=shown, body="Internal only", public=False, by=staff)
    make_window(service, name="Kernel update", date=date(2027, 1, 8), start=time(2, 0))

    response = client.get("/status/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert response["Access-Control-Allow-Origin"] == "*"
    root = parse_own(response.content)  # well-formed, or this raises
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}").text
    assert any(link.get("rel") == "self" for link in root.findall(f"{ATOM}link"))
    assert root.find(f"{ATOM}author/{ATOM}name").text
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:  # RFC 4287 4.1.2: id, title, updated; a link as there is no content
        for name in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{name}").text
        assert entry.find(f"{ATOM}link").get("href").startswith("http")
    titles = [entry.find(f"{ATOM}title").text for entry in entries]
    assert "API & Co: Login <errors> — Investigating" in titles
    assert "API & Co: maintenance — Kernel update" in titles
    text = response.content.decode()
    assert "Secret draft" not in text and "Internal only" not in text
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(ids) == len(set(ids))


def test_a_badge_per_service_says_its_status(client, clock, people):
    staff, publisher = people
    service = factories.ServiceFactory(slug="api", name="API")
    response = client.get("/status/badge/api.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert response["Access-Control-Allow-Origin"] == "*"
    svg = parse_own(response.content)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("data-status") == "operational" and "API: operational" in svg.get("aria-label")

    incident(service, "Secret draft", by=staff, publisher=publisher, resolve=False, publish=False)
    cache.clear()
    assert parse_own(client.get("/status/badge/api.svg").content).get("data-status") == (
        "operational"
    )
    IncidentFactory(service=service, impact="major_outage", outage=True)
    cache.clear()
    svg = parse_own(client.get("/status/badge/api.svg").content)
    assert svg.get("data-status") == "major_outage"
    assert client.get("/status/badge/nope.svg").status_code == 404


def test_a_draft_outage_is_not_downtime_on_the_public_uptime_bars(client, clock, people):
    """The 90-day bars are public: a draft outage does not show until it is published."""
    staff, publisher = people
    service = factories.ServiceFactory(slug="api", name="API")
    clock.shift(-timedelta(hours=2))
    draft = incident(
        service, "Draft outage", by=staff, publisher=publisher, publish=False, resolve=False
    )
    clock.shift(timedelta(hours=2))
    assert "100 % uptime" in client.get("/status/").text
    services.incident_publish(incident=draft, by=publisher)
    cache.clear()
    assert "100 % uptime" not in client.get("/status/").text


def test_the_new_public_pages_need_no_inline_script_handler_or_style(client, clock, people):
    """The strict Content-Security-Policy allows none: history, an incident page and the
    status page with an incident carry no inline <script>, on…= handler or style attribute."""
    staff, publisher = people
    service = factories.ServiceFactory(slug="api", name="API")
    shown = incident(service, "Login errors", by=staff, publisher=publisher, resolve=False)
    for url in ("/status/", "/status/history/", reverse("status_incident", args=[shown.pk])):
        html = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert " style=" not in html, url
