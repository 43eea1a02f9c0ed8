"""An incident is a draft until a member allowed to publish (Tier 2 and 3) publishes it: until
then nothing of it is public — status page, JSON, feeds, history, its own page, subscribers'
email — and publishing sends its held public updates once."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from incidents import services
from incidents.models import Incident
from incidents.tasks import send_incident_updates
from notifications.delivery import notifications_send_due
from tests import factories
from tests.incidents.test_updates import audience, outbox  # noqa: F401

pytestmark = pytest.mark.django_db

PUBLIC_URLS = [
    "/status/",
    "/status/status.json",
    "/status/feed.atom",
    "/status/history/",
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
]


def public_text(client):
    return {url: client.get(url).content.decode() for url in PUBLIC_URLS}


def draft_with_updates(open_incident, staff, *, resolve=False):
    incident = open_incident(title="Secret draft outage", publish=False)
    first = services.incident_post_update(
        incident=incident, body="Held update one", public=True, by=staff
    )
    second = services.incident_post_update(
        incident=incident, body="Held update two", public=True, by=staff, status="identified"
    )
    if resolve:
        services.incident_resolve(incident=incident, by=staff)
    return incident, [first, second]


def test_a_draft_is_nowhere_public_until_published(clock, client, open_incident, staff, publisher):
    """A draft (open or resolved) is on no public page, JSON, feed or history, and its own page
    is a 404; once published, it is on every one of them."""
    incident, _ = draft_with_updates(open_incident, staff)
    resolved, _ = draft_with_updates(open_incident, staff, resolve=True)
    for url, text in public_text(client).items():
        assert "Secret draft outage" not in text, url
        assert "Held update" not in text, url
    for draft in (incident, resolved):
        page = reverse("status_incident", args=[draft.pk])
        assert client.get(page).status_code == 404
    assert 'data-status="operational"' in client.get("/status/").text

    services.incident_publish(incident=incident, by=publisher)
    services.incident_publish(incident=resolved, by=publisher)
    cache.clear()  # the feed and the JSON are cached 30 s
    texts = public_text(client)
    for url in ("/status/", "/status/status.json", "/status/feed.atom", "/api/v2/incidents.json"):
        assert "Secret draft outage" in texts[url], url
    assert "Held update two" in texts["/status/feed.atom"]
    assert "Secret draft outage" in texts["/status/history/"]  # the resolved one
    assert client.get(reverse("status_incident", args=[incident.pk])).status_code == 200


def test_a_drafts_public_updates_are_held_then_sent_once_on_publish(
    clock,
    open_incident,
    staff,
    publisher,
    audience,  # noqa: F811
    mailoutbox,
):
    """Public updates on a draft email nobody, whatever the sweep does; publishing marks them
    to be sent, the sweep sends each to each subscriber once, and a second publish is refused
    and sends nothing again."""
    incident, updates = draft_with_updates(open_incident, staff)
    assert not any(update.emails_pending for update in updates)
    assert send_incident_updates() == 0
    assert all(outbox(update) == [] for update in updates)

    services.incident_publish(incident=incident, by=publisher)
    assert send_incident_updates() == 2 * len(audience)
    with pytest.raises(ValidationError):
        services.incident_publish(incident=Incident.objects.get(pk=incident.pk), by=publisher)
    assert send_incident_updates() == 0
    for update in updates:
        assert {address.lower() for address in outbox(update)} == audience
    notifications_send_due()
    assert len(mailoutbox) == 2 * len(audience)
    bodies = [message.body for message in mailoutbox]
    assert sum("Held update one" in body for body in bodies) == len(audience)
    assert all("Identified" in body for body in bodies if "Held update two" in body)


def test_tier_1_cannot_publish_and_tier_2_can(clock, open_incident, staff, publisher):
    """The publish permission is Tier 2's and 3's by migration; Tier 1 opens and works drafts."""
    incident = open_incident(publish=False)
    assert not staff.has_perm("incidents.publish_incident")
    with pytest.raises(PermissionDenied):
        services.incident_publish(incident=incident, by=staff)
    assert Incident.objects.get(pk=incident.pk).published_at is None
    tier3 = factories.StaffFactory(tier=3)
    assert tier3.has_perm("incidents.publish_incident")
    services.incident_publish(incident=incident, by=publisher)
    published = Incident.objects.get(pk=incident.pk)
    assert published.published_by == publisher and published.published_at is not None
    groups = set(
        Permission.objects.get(codename="publish_incident").group_set.values_list("name", flat=True)
    )
    assert groups == {"Tier 2", "Tier 3"}


def test_admin_publish_needs_the_permission_and_shows_a_preview(
    clock, client, open_incident, staff, publisher
):
    """Tier 1 sees the preview but no publish box, and a forged publish post is refused; Tier 2
    publishes from the change page; the preview is what /status/ shows (title, impact, the
    public updates, never internal notes)."""
    incident, _ = draft_with_updates(open_incident, staff)
    services.incident_post_update(incident=incident, body="Internal only", public=False, by=staff)
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    client.force_login(staff)
    page = client.get(url)
    html = page.content.decode()
    assert 'name="publish"' not in html
    preview = html[html.index('class="public-incident"') :]
    assert "Secret draft outage" in preview and "Major outage" in preview
    assert "Held update two" in preview and "Identified" in preview
    assert "Internal only" not in preview.split("</div>\n</div>")[0]

    changelist = reverse("admin:incidents_incident_changelist")
    response = client.post(
        changelist, {"action": "publish_incidents", "_selected_action": [incident.pk]}
    )
    assert Incident.objects.get(pk=incident.pk).published_at is None
    assert response.status_code in (200, 302)

    client.force_login(publisher)
    html = client.get(url).content.decode()
    assert 'name="publish"' in html
    response = client.post(
        changelist, {"action": "publish_incidents", "_selected_action": [incident.pk]}
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).published_by == publisher


def test_the_add_form_preselects_no_impact(clock, client, staff, service, severity, policy):
    """A new incident is not a red "Outage" by default: staff choose its impact."""
    client.force_login(staff)
    html = client.get(reverse("admin:incidents_incident_add")).content.decode()
    select = html[html.index('name="impact"') :]
    select = select[: select.index("</select>")]
    assert 'value="" selected' in select
    assert "selected" not in select.replace('value="" selected', "")
    assert 'name="outage"' not in html


def test_impact_sets_the_outage_flag_the_uptime_counts(clock, open_incident, staff):
    """Partial and major outages are downtime; degraded performance is not."""
    incident = open_incident(impact="degraded_performance")
    assert incident.outage is False
    for impact, outage in [("partial_outage", True), ("major_outage", True)]:
        services.incident_edit(incident=incident, by=staff, impact=impact)
        incident.refresh_from_db()
        assert (incident.impact, incident.outage) == (impact, outage)
