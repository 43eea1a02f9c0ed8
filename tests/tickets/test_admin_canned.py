"""Canned replies per service, filled in for the ticket and inserted by a static script; staff
replies carry attachments checked like customers'."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories
from tickets.canned import canned_reply_values, render_canned_reply
from tickets.models import CannedReply
from tickets.templatetags.staff_time import UTC

pytestmark = pytest.mark.django_db


def change_url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def form_data(ticket, **overrides):
    data = {
        "status": ticket.status,
        "priority": ticket.priority_id,
        "assignee": ticket.assignee_id or "",
        "public_reply": "",
        "internal_note": "",
        "escalate_reason": "",
    }
    data.update(overrides)
    return data


def test_placeholders_are_filled_and_nothing_else_is_read(ticket):
    """The four placeholders become the ticket's values; braces, attribute lookups and unknown
    names stay as written."""
    ticket.customer.first_name, ticket.customer.last_name = "Ada", "Byron"
    values = canned_reply_values(ticket, UTC)
    text = render_canned_reply(
        "Hi {customer_name}, {ticket_number}: {response_due} / {resolution_due}. "
        "{0.__class__} {unknown} {{x}}",
        values,
    )
    assert text.startswith(f"Hi Ada Byron, {ticket.number}: ")
    assert "{0.__class__} {unknown} {{x}}" in text
    assert "{response_due}" not in text and "{resolution_due}" not in text


def test_the_ticket_page_offers_its_services_replies_filled_in(client, tier1_staff, ticket):
    """The select lists the ticket's service's replies only, each carrying its filled-in text
    (escaped), and the page loads the inserting script from a static file."""
    CannedReply.objects.create(
        service=ticket.service, title="Thanks", body="Hello {customer_name} <b>hi</b>"
    )
    CannedReply.objects.create(service=factories.ServiceFactory(), title="Other", body="x")
    client.force_login(tier1_staff)
    page = client.get(change_url(ticket)).content.decode()
    assert 'id="id_canned_reply"' in page
    name = ticket.customer.get_full_name() or ticket.customer.email
    assert f'data-body="Hello {name} &lt;b&gt;hi&lt;/b&gt;"' in page
    assert ">Thanks</option>" in page and ">Other</option>" not in page
    assert "js/admin-canned-replies.js" in page


def test_a_staff_reply_carries_attachments(client, tier1_staff, ticket):
    """Files posted with a public reply are stored on that reply."""
    client.force_login(tier1_staff)
    response = client.post(
        change_url(ticket),
        {
            **form_data(ticket, public_reply="Log attached"),
            "reply_attachments": [SimpleUploadedFile("steps.txt", b"1. restart", "text/plain")],
        },
    )
    assert response.status_code == 302
    message = ticket.messages.get()
    assert [a.name for a in message.attachments.all()] == ["steps.txt"]


@pytest.mark.parametrize(
    ("name", "content", "reply"),
    [("tool.exe", b"MZ", "Here"), ("empty.txt", b"", "Here"), ("ok.txt", b"fine", "")],
    ids=["refused-type", "empty", "no-text"],
)
def test_refused_attachments_save_nothing(client, tier1_staff, ticket, name, content, reply):
    """A type customers may not attach, an empty file, or files with no reply: the form says
    why and nothing is saved."""
    client.force_login(tier1_staff)
    response = client.post(
        change_url(ticket),
        {
            **form_data(ticket, public_reply=reply),
            "reply_attachments": [SimpleUploadedFile(name, content, "application/octet-stream")],
        },
    )
    assert response.status_code == 200
    assert "reply_attachments" in response.context["adminform"].form.errors
    assert not ticket.messages.exists()


def test_canned_replies_admin_is_scoped_to_my_services(client, tier_groups):
    """A Tier 2 member limited to one service edits that service's replies only."""
    mine, theirs = factories.ServiceFactory(), factories.ServiceFactory()
    CannedReply.objects.create(service=mine, title="Mine", body="m")
    hidden = CannedReply.objects.create(service=theirs, title="Hidden", body="h")
    member = factories.StaffFactory(tier=2, services=[mine])
    client.force_login(member)
    page = client.get(reverse("admin:tickets_cannedreply_changelist")).content.decode()
    assert "Mine" in page and "Hidden" not in page
    response = client.get(reverse("admin:tickets_cannedreply_change", args=[hidden.pk]))
    assert response.status_code == 302  # "doesn't exist", back to the index
