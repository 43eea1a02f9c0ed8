"""The ways in (MTA pipe, HTTP endpoint) share one path, and a message acts once."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from inbound.models import InboundMessage
from inbound.services import inbound_process_pending, inbound_receive, inbound_store
from tickets.models import Ticket

from .conftest import make_mail

pytestmark = pytest.mark.django_db

TOKEN = "inbound-test-token-0123456789"


def pipe(raw):
    """``receive_email`` with ``raw`` on standard input; its standard output."""
    out = io.StringIO()
    call_command("receive_email", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def post(client, raw, token=TOKEN, content_type="message/rfc822"):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/inbound/email/", raw, content_type=content_type, headers=headers)


@pytest.fixture
def endpoint(settings):
    settings.INBOUND_EMAIL_TOKEN = TOKEN


def test_a_customer_mail_opens_a_ticket(client_user, support_service):
    """Mail to the service's address from its customer opens a ticket: the subject, the text
    without its quoted history, the plan's least urgent priority, the attachment."""
    raw = make_mail(
        sender="Ann <ann@client.example>",
        body=(
            "Hello,\n\nthe CSV export fails since this morning.\n\n"
            "On Mon, 30 Nov 2026 at 10:00, Bob <bob@client.example> wrote:\n"
            "> an older message\n> quoted below\n"
        ),
        attachments=[("error.log", b"Traceback ...\n", "text/plain")],
    )
    receipt = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE)
    message = receipt.message
    assert message.outcome == InboundMessage.Outcome.TICKET_OPENED
    ticket = message.ticket
    assert ticket.customer == client_user
    assert ticket.service == support_service
    assert ticket.subject == "The export fails"
    assert ticket.priority.code == "P3"
    assert "the CSV export fails since this morning." in ticket.description
    assert "older message" not in ticket.description
    assert "wrote:" not in ticket.description
    assert [a.name for a in ticket.attachments.all()] == ["error.log"]


def test_a_priority_tag_in_the_subject_picks_that_priority(client_user, support_service):
    """``[P1]`` names one of the service's priorities: the ticket gets it, the subject loses it."""
    raw = make_mail(sender="ann@client.example", subject="[P1] Production is down")
    ticket = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message.ticket
    assert ticket.priority.code == "P1"
    assert ticket.subject == "Production is down"


def test_the_same_message_by_pipe_by_http_and_again_opens_one_ticket(
    client, endpoint, client_user, support_service
):
    """One Message-ID, one effect: whichever way it came in and however often."""
    raw = make_mail(sender="ann@client.example", message_id="<once-only@client.example>")
    assert pipe(raw).startswith("ticket_opened")
    response = post(client, raw)
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert pipe(raw).startswith("duplicate")
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(client_user, support_service):
    """No Message-ID: the same bytes twice are still one message (a hash is the key)."""
    raw = make_mail(sender="ann@client.example").replace(b"Message-ID:", b"X-Old-Id:")
    first = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE)
    second = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE)
    assert first.message.message_id.startswith("sha256:")
    assert second.duplicate and second.message.pk == first.message.pk
    assert Ticket.objects.count() == 1


def test_a_message_stored_but_not_acted_on_is_acted_on_by_the_sweep(client_user, support_service):
    """A crash between storing and acting leaves a pending row; the sweep acts on it once it
    has waited a minute, and a second sweep finds nothing to do."""
    raw = make_mail(sender="ann@client.example")
    message, created = inbound_store(raw=raw, via=InboundMessage.Via.PIPE)  # then "crash"
    assert created and message.outcome == InboundMessage.Outcome.PENDING
    assert not inbound_process_pending()  # too fresh: its own delivery may still act on it
    later = timezone.now() + timedelta(minutes=2)
    assert inbound_process_pending(now=later) == {InboundMessage.Outcome.TICKET_OPENED: 1}
    assert not inbound_process_pending(now=later)
    message.refresh_from_db()
    assert message.outcome == InboundMessage.Outcome.TICKET_OPENED
    assert Ticket.objects.count() == 1


def test_a_redelivery_acts_on_a_message_left_pending(client_user, support_service):
    """The MTA delivering again after the crash does not wait for the sweep."""
    raw = make_mail(sender="ann@client.example")
    inbound_store(raw=raw, via=InboundMessage.Via.PIPE)
    receipt = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE)
    assert receipt.duplicate
    assert receipt.message.outcome == InboundMessage.Outcome.TICKET_OPENED
    assert Ticket.objects.count() == 1


def test_the_pipe_exits_non_zero_with_one_line_when_refused(settings, client_user):
    """A refused message (here: over INBOUND_EMAIL_MAX_BYTES) is exit 65 (EX_DATAERR) with a
    one-line reason; only its headers are kept."""
    settings.INBOUND_EMAIL_MAX_BYTES = 2000
    raw = make_mail(sender="ann@client.example", body="x" * 5000)
    with pytest.raises(CommandError) as excinfo:
        pipe(raw)
    assert excinfo.value.returncode == 65
    assert "\n" not in str(excinfo.value)
    assert "limit" in str(excinfo.value)
    message = InboundMessage.objects.get()
    assert message.outcome == InboundMessage.Outcome.REFUSED
    assert not message.raw_complete
    assert b"x" * 100 not in bytes(message.raw)
    assert message.size == len(raw)
    assert not Ticket.objects.exists()


def test_the_endpoint_stores_and_acts(client, endpoint, client_user, support_service):
    """A good token and a message/rfc822 body: 201 once the message is stored and acted on."""
    response = post(client, make_mail(sender="ann@client.example"))
    assert response.status_code == 201
    assert response.json()["outcome"] == "ticket_opened"
    assert InboundMessage.objects.get().via == InboundMessage.Via.HTTP


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN[:-1], ""])
def test_the_endpoint_refuses_a_missing_or_wrong_token_and_stores_nothing(
    client, endpoint, client_user, token
):
    """401 without the right bearer token; nothing is stored."""
    response = post(client, make_mail(sender="ann@client.example"), token=token)
    assert response.status_code == 401
    assert not InboundMessage.objects.exists()


def test_the_endpoint_is_off_while_the_token_is_unset(client, settings, client_user):
    """No INBOUND_EMAIL_TOKEN, no endpoint: 404, even with a bearer token."""
    settings.INBOUND_EMAIL_TOKEN = ""
    assert post(client, make_mail(sender="ann@client.example"), token="").status_code == 404
    assert not InboundMessage.objects.exists()


def test_the_endpoint_takes_only_message_rfc822(client, endpoint, client_user):
    response = post(client, make_mail(sender="ann@client.example"), content_type="text/plain")
    assert response.status_code == 415
    assert not InboundMessage.objects.exists()


def test_a_message_the_ticket_rules_refuse_is_refused_with_their_reason(
    client_user, support_service
):
    """The sweep acting on a stored message records a refusal by the ticket rules (here: the
    service offers no priority) as the outcome, with the reason, and opens nothing."""
    raw = make_mail(sender="ann@client.example")
    message, _ = inbound_store(raw=raw, via=InboundMessage.Via.PIPE)
    support_service.priorities.update(
        retired_at=timezone.now()
    )  # no priority: refused, not an error
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert inbound_process_pending() == {InboundMessage.Outcome.REFUSED: 1}
    message.refresh_from_db()
    assert "no priority" in message.reason
    assert not Ticket.objects.exists()


def test_the_confirmation_answers_the_customers_email(client_user, support_service):
    """The usual confirmation, threaded under the customer's own email (In-Reply-To its
    Message-ID) as well as in the ticket's thread."""
    from notifications.models import Notification
    from tickets.mail_thread import thread_root_id

    raw = make_mail(sender="ann@client.example", message_id="<first@client.example>")
    ticket = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message.ticket
    headers = Notification.objects.get(key=f"ticket:{ticket.pk}:received").headers
    assert headers["In-Reply-To"] == "<first@client.example>"
    assert headers["References"] == f"{thread_root_id(ticket.pk)} <first@client.example>"
    assert f"+{ticket.pk}-" in headers["Reply-To"]
