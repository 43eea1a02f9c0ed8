"""Staff limited to some services see and hear of those services only, everywhere.

A managed-service provider keeps one customer's team out of another customer's data: a member
with ``StaffService`` rows works those services; a member without any works every service.
"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents import services as incident_services
from notifications.models import Notification
from sla.models import StaffService
from sla.selectors import Rosters, service_tier_members
from tests import factories
from tests.incidents.factories import IncidentPolicyFactory
from tests.routine.factories import RoutineTaskFactory, routine_staff
from tickets import services as ticket_services
from tickets.selectors import attachment_get_for_user, tickets_for_staff

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def erp(db):
    return factories.ServiceFactory(slug="erp", name="ERP")


@pytest.fixture
def web(db):
    return factories.ServiceFactory(slug="web", name="Web shop")


@pytest.fixture
def erp_agent(erp):
    """Tier 2, works the ERP service only."""
    return factories.StaffFactory(tier=2, email="erp-agent@example.com", services=[erp])


@pytest.fixture
def generalist(db):
    """Tier 2, no limit: works every service."""
    return factories.StaffFactory(tier=2, email="generalist@example.com")


def ticket_of(service, **fields):
    priority = factories.PriorityFactory(service=service, code=f"P-{service.slug}")
    customer = factories.CustomerFactory(services=[service])
    return factories.TicketFactory(service=service, priority=priority, customer=customer, **fields)


def test_a_limited_member_works_only_their_services_tickets(erp, web, erp_agent, generalist):
    """The scope every ticket read goes through: their services' tickets only; others all."""
    mine, theirs = ticket_of(erp), ticket_of(web)
    assert set(tickets_for_staff(user=erp_agent)) == {mine}
    assert set(tickets_for_staff(user=generalist)) == {mine, theirs}


def test_the_ticket_admin_hides_other_services(client, erp, web, erp_agent):
    """The list shows their service's tickets; another service's ticket page does not exist."""
    mine, theirs = ticket_of(erp), ticket_of(web)
    client.force_login(erp_agent)
    listed = client.get(reverse("admin:tickets_ticket_changelist"))
    assert {ticket.pk for ticket in listed.context["cl"].result_list} == {mine.pk}
    page = client.get(reverse("admin:tickets_ticket_change", args=[theirs.pk]))
    assert page.status_code == 302  # the admin's "doesn't exist" redirect to the index
    assert theirs.subject not in client.get(page.url).content.decode()
    assert client.get(reverse("admin:tickets_ticket_change", args=[mine.pk])).status_code == 200


def test_message_and_event_lists_hide_other_services(client, erp, web, erp_agent):
    theirs = ticket_of(web)
    ticket_services.ticket_reply(ticket=theirs, author=theirs.customer, body="private words")
    client.force_login(erp_agent)
    messages = client.get(reverse("admin:tickets_message_changelist"))
    assert "private words" not in messages.content.decode()
    events = client.get(reverse("admin:tickets_ticketevent_changelist"))
    assert not events.context["cl"].result_list


def test_attachments_of_other_services_are_404(erp, web, erp_agent, generalist):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.http import Http404

    customer = factories.CustomerFactory(services=[web])
    factories.PriorityFactory(service=web, code="P3")
    ticket = ticket_services.ticket_create(
        customer=customer,
        service=web,
        priority="P3",
        subject="Invoice",
        description="attached",
        attachments=[SimpleUploadedFile("a.txt", b"secret", content_type="text/plain")],
    )
    attachment = ticket.attachments.get()
    assert attachment_get_for_user(
        user=generalist, ticket_id=ticket.pk, attachment_id=attachment.pk
    )
    with pytest.raises(Http404):
        attachment_get_for_user(user=erp_agent, ticket_id=ticket.pk, attachment_id=attachment.pk)


def test_new_ticket_email_reaches_only_members_of_its_service(erp, web, erp_agent, generalist):
    """Staff of the tier who work the service hear of a new ticket; a member limited to
    another service does not get its subject in their inbox."""
    customer = factories.CustomerFactory(services=[web])
    factories.PriorityFactory(service=web, code="P3")
    web_only = factories.StaffFactory(tier=1, email="web-agent@example.com", services=[web])
    erp_only = factories.StaffFactory(tier=1, email="erp-tier1@example.com", services=[erp])
    anyone = factories.StaffFactory(tier=1, email="any-tier1@example.com")
    ticket_services.ticket_create(
        customer=customer, service=web, priority="P3", subject="Card declined", description="x"
    )
    told = set(
        Notification.objects.filter(subject__contains="Card declined").values_list("to", flat=True)
    )
    assert web_only.email in told and anyone.email in told
    assert erp_only.email not in told
    assert set(service_tier_members(web.pk, 1)) == {web_only, anyone}


def test_escalation_recipients_are_the_tiers_members_who_work_the_service(
    erp, web, erp_agent, generalist
):
    """The sweep's rosters tell a tier's members of a ticket only if they work its service."""
    factories.TierFactory(service=web, level=2)
    rosters = Rosters([web.pk, erp.pk], at=NOW)
    assert rosters.recipients(web.pk, 2) == [generalist]
    assert set(rosters.recipients(erp.pk, 2)) == {erp_agent, generalist}


def test_only_members_who_see_the_ticket_can_be_assigned(erp, web, erp_agent, generalist):
    theirs = ticket_of(web)
    with pytest.raises(ValidationError, match="cannot see this ticket"):
        ticket_services.ticket_assign(ticket=theirs, assignee=erp_agent, by=generalist)
    ticket_services.ticket_assign(ticket=theirs, assignee=generalist, by=generalist)


def test_the_assignee_choices_leave_out_members_of_other_services(
    client, erp, web, erp_agent, generalist
):
    theirs = ticket_of(web)
    client.force_login(generalist)
    page = client.get(reverse("admin:tickets_ticket_change", args=[theirs.pk]))
    choices = set(page.context["adminform"].form.fields["assignee"].queryset)
    assert generalist in choices
    assert erp_agent not in choices


def test_incidents_of_other_services_are_hidden_and_cannot_be_opened(
    client, erp, web, erp_agent, generalist
):
    for service in (erp, web):
        IncidentPolicyFactory(service=service)
        factories.PriorityFactory(service=service, code="P0", position=0)
    with time_machine.travel(NOW, tick=False):
        theirs = incident_services.incident_open(
            service=web, severity="P0", title="Checkout down", by=generalist
        )
        mine = incident_services.incident_open(
            service=erp, severity="P0", title="ERP slow", by=erp_agent
        )
        with pytest.raises(ValidationError, match="You do not work Web shop"):
            incident_services.incident_open(
                service=web, severity="P0", title="Not mine", by=erp_agent
            )
    client.force_login(erp_agent)
    listed = client.get(reverse("admin:incidents_incident_changelist"))
    assert {incident.pk for incident in listed.context["cl"].result_list} == {mine.pk}
    page = client.get(reverse("admin:incidents_incident_change", args=[theirs.pk]))
    assert page.status_code == 302
    add = client.get(reverse("admin:incidents_incident_add"))
    assert set(add.context["adminform"].form.fields["service"].queryset) == {erp}


def test_routine_items_and_their_reminders_stay_in_the_service(erp, web):
    from routine.reminders import routine_items_remind_overdue
    from routine.selectors import items_for_staff
    from routine.services import routine_items_create

    RoutineTaskFactory(service=erp, name="Patch ERP", tier=1)
    RoutineTaskFactory(service=web, name="Patch shop", tier=1)
    erp_only = routine_staff(1, email="erp-routine@example.com", services=[erp])
    anyone = routine_staff(1, email="any-routine@example.com")
    with time_machine.travel(NOW, tick=False) as clock:
        routine_items_create(now=NOW)
        assert {item.service for item in items_for_staff(user=erp_only)} == {erp}
        assert {item.service for item in items_for_staff(user=anyone)} == {erp, web}
        clock.move_to(datetime(2027, 2, 1, 12, 0, tzinfo=UTC))
        routine_items_remind_overdue()
    reminded = Notification.objects.filter(key__startswith="routine:")
    to_anyone = list(reminded.filter(to=anyone.email).values_list("subject", flat=True))
    assert any("Patch ERP" in subject for subject in to_anyone)
    assert any("Patch shop" in subject for subject in to_anyone)
    to_erp_only = list(reminded.filter(to=erp_only.email).values_list("subject", flat=True))
    assert to_erp_only and all("Patch ERP" in subject for subject in to_erp_only)


def test_reports_offer_only_the_members_services(client, erp, web, erp_agent):
    client.force_login(erp_agent)
    metrics = client.get(reverse("admin:metrics_successmetrics_changelist"))
    offered = {slug for slug, _name in metrics.context["form"].fields["service"].choices}
    assert "web" not in offered and "erp" in offered
    refused = client.get(
        reverse("admin:metrics_successmetrics_changelist"), {"service": "web", "period": "month"}
    )
    assert refused.status_code == 400
    uptime = client.get(reverse("admin:uptime_uptimereport_changelist"))
    body = uptime.content.decode()
    assert "ERP" in body and "Web shop" not in body


def test_service_and_organisation_pages_are_scoped(client, erp, web, erp_agent):
    from contracts.models import Organization

    Organization.objects.create(name="Acme (web)", service=web)
    Organization.objects.create(name="Globex (erp)", service=erp)
    client.force_login(erp_agent)
    organizations = client.get(reverse("admin:contracts_organization_changelist"))
    assert [org.name for org in organizations.context["cl"].result_list] == ["Globex (erp)"]
    services = client.get(reverse("admin:sla_service_changelist"))
    assert {service.slug for service in services.context["cl"].result_list} == {"erp"}
    assert client.get(reverse("admin:sla_service_change", args=[web.pk])).status_code == 302


def test_staff_limits_are_edited_on_the_user_page(client, erp):
    """A superuser limits a member to services on the member's own admin page."""
    root = factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    member = factories.StaffFactory(tier=1)
    client.force_login(root)
    page = client.get(reverse("admin:auth_user_change", args=[member.pk]))
    assert page.status_code == 200
    inlines = [formset.opts.model for formset in page.context["inline_admin_formsets"]]
    assert StaffService in inlines
    assert "services worked" in page.content.decode().lower()


def test_maintenance_pages_are_scoped(client, erp, web, erp_agent):
    """Windows, their occurrence actions and subscriptions of other services stay hidden."""
    from django.contrib.auth.models import Permission

    from maintenance.models import Subscription
    from tests.maintenance.conftest import make_window

    # Tier groups hold no maintenance permissions; a company may grant them to a member.
    erp_agent.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="maintenance",
            codename__in=[
                "view_maintenancewindow",
                "change_maintenancewindow",
                "view_subscription",
            ],
        )
    )
    mine, theirs = make_window(erp, name="ERP patching"), make_window(web, name="Shop patching")
    Subscription.objects.create(service=web, email="shopper@example.com")
    client.force_login(erp_agent)
    windows = client.get(reverse("admin:maintenance_maintenancewindow_changelist"))
    assert {window.pk for window in windows.context["cl"].result_list} == {mine.pk}
    cancel = reverse("admin:maintenance_occurrence_cancel", args=[theirs.pk, "20270110T020000Z"])
    assert client.get(cancel).status_code == 404
    subscriptions = client.get(reverse("admin:maintenance_subscription_changelist"))
    assert "shopper@example.com" not in subscriptions.content.decode()
