"""Inbound messages in admin: superusers only; raw download; process again."""

import pytest
from django.urls import reverse

from inbound.models import InboundMessage
from inbound.services import inbound_receive
from tests import factories
from tickets.models import Ticket

from .conftest import make_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def receive(raw):
    return inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message


def test_superusers_see_the_list_and_download_the_raw_message(client, superuser, client_user):
    raw = make_mail(sender="ann@client.example", subject="Visible in admin")
    message = receive(raw)
    client.force_login(superuser)
    page = client.get(reverse("admin:inbound_inboundmessage_changelist"))
    assert page.status_code == 200
    assert b"Visible in admin" in page.content
    assert b"Ticket opened" in page.content
    download = client.get(reverse("admin:inbound_inboundmessage_raw", args=[message.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "message/rfc822"
    assert "attachment" in download["Content-Disposition"]
    assert download.content == raw


def test_tier_staff_see_nothing_of_it(client, client_user, tier_groups):
    message = receive(make_mail(sender="ann@client.example"))
    staff = factories.StaffFactory(tier=3)
    client.force_login(staff)
    assert client.get(reverse("admin:inbound_inboundmessage_changelist")).status_code == 403
    raw_url = reverse("admin:inbound_inboundmessage_raw", args=[message.pk])
    assert client.get(raw_url).status_code == 403


def test_process_again_acts_on_a_refused_message(client, superuser, client_user, support_service):
    """Refused while the service offered no priority; once the plan is fixed, staff process it
    again and the ticket opens."""
    from django.utils import timezone

    support_service.priorities.update(retired_at=timezone.now())
    message = receive(make_mail(sender="ann@client.example"))
    assert message.outcome == InboundMessage.Outcome.REFUSED
    support_service.priorities.update(retired_at=None)
    client.force_login(superuser)
    client.post(
        reverse("admin:inbound_inboundmessage_changelist"),
        {"action": "process_again", "_selected_action": [message.pk]},
    )
    message.refresh_from_db()
    assert message.outcome == InboundMessage.Outcome.TICKET_OPENED
    assert Ticket.objects.count() == 1
