"""What a customer may send: tickets and replies per rolling hour, and how long a text may be.

The hourly limits are enforced by the services under a lock on the customer's row, so
concurrent submissions cannot all read the same count and all pass (those tests need
PostgreSQL's row locks); the size cap is checked by the forms (a clear error on the field) and
again by the services, so no path around the forms gets a larger text into staff email.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from tests import factories
from tests.concurrency import run_together
from tickets import services
from tickets.models import Message, Ticket


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def _submit(client, service, priority, **overrides):
    data = {
        "service": service.pk,
        "priority": priority.pk,
        "subject": "Checkout is broken",
        "description": "Every order fails.",
        **overrides,
    }
    return client.post(reverse("tickets:new"), data)


def _reply(client, ticket, body="Any news?"):
    return client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": body})


def _refused_or_done(job):
    """Run ``job``; a refusal is an outcome to count, not an error."""

    def run():
        try:
            job()
        except ValidationError as error:
            return error.messages
        return "done"

    return run


# --- submissions per hour, concurrently ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_never_pass_the_hourly_limit(service, priority, customer, settings):
    """Twenty submissions at the same moment with a limit of five: exactly five tickets, and
    every other submission refused with the limit's message."""
    settings.TICKET_SUBMIT_LIMIT_PER_HOUR = 5

    def submit(n):
        return lambda: services.ticket_create(
            customer=customer,
            service=service,
            priority=priority,
            subject=f"Burst {n}",
            description="Same moment.",
        )

    outcomes = run_together(*(_refused_or_done(submit(n)) for n in range(20)))
    assert Ticket.objects.filter(customer=customer).count() == 5
    assert outcomes.count("done") == 5
    refusals = [outcome for outcome in outcomes if outcome != "done"]
    assert all("5 tickets in the last hour" in outcome[0] for outcome in refusals)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_never_pass_the_hourly_limit(service, priority, customer, settings):
    """Twenty replies at the same moment, each on its own ticket, with a limit of five: exactly
    five are stored (the ticket's own lock does not serialise replies to different tickets)."""
    settings.TICKET_REPLY_LIMIT_PER_HOUR = 5
    tickets = [
        factories.TicketFactory(customer=customer, service=service, priority=priority)
        for _ in range(20)
    ]

    def reply(ticket):
        return lambda: services.ticket_reply(ticket=ticket, author=customer, body="Same moment.")

    outcomes = run_together(*(_refused_or_done(reply(ticket)) for ticket in tickets))
    assert Message.objects.filter(author=customer).count() == 5
    assert outcomes.count("done") == 5


# --- replies per hour ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_over_the_hourly_limit_is_a_form_error_and_keeps_the_text(
    customer_client, customer, ticket, settings
):
    """Past TICKET_REPLY_LIMIT_PER_HOUR in a rolling hour the customer page says so, keeps what
    was typed and stores nothing; a reply older than an hour no longer counts."""
    settings.TICKET_REPLY_LIMIT_PER_HOUR = 2
    old = services.ticket_reply(ticket=ticket, author=customer, body="Yesterday's reply")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert _reply(customer_client, ticket, "First").status_code == 302
    assert _reply(customer_client, ticket, "Second").status_code == 302

    response = _reply(customer_client, ticket, "Third within the hour")
    assert response.status_code == 200
    assert "2 replies in the last hour" in response.text
    assert "Third within the hour" in response.text
    assert ticket.messages.count() == 3


@pytest.mark.django_db
def test_staff_replies_are_not_limited(ticket, customer, tier1_staff, settings):
    """The reply limit is the customer's: staff answer as often as the ticket needs, and their
    replies do not use up the customer's allowance."""
    settings.TICKET_REPLY_LIMIT_PER_HOUR = 1
    for n in range(3):
        services.ticket_reply(ticket=ticket, author=tier1_staff, body=f"Update {n}")
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="A note", internal=True)
    services.ticket_reply(ticket=ticket, author=customer, body="Thanks")
    assert ticket.messages.count() == 5
    with pytest.raises(ValidationError, match="1 replies in the last hour"):
        services.ticket_reply(ticket=ticket, author=customer, body="And again")


# --- text size ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_description_over_the_cap_is_a_clear_form_error(
    customer_client, customer, service, priority, settings
):
    """TICKET_TEXT_MAX_BYTES counts UTF-8 bytes: 51 'é' (102 bytes) are over a 100-byte cap
    though only 51 characters; 50 of them (100 bytes) are accepted."""
    settings.TICKET_TEXT_MAX_BYTES = 100
    response = _submit(customer_client, service, priority, description="é" * 51)
    assert response.status_code == 200
    errors = response.context["form"].errors["description"]
    assert errors == [
        "This text is 102\xa0bytes; the most we accept is 100\xa0bytes. "
        "Attach long logs or outputs as a file instead."
    ]
    assert not Ticket.objects.exists()

    assert _submit(customer_client, service, priority, description="é" * 50).status_code == 302
    assert Ticket.objects.get().description == "é" * 50


@pytest.mark.django_db
def test_a_reply_over_the_cap_is_a_clear_form_error(customer_client, ticket, settings):
    """The same cap on a reply: an error on the reply field, nothing stored."""
    settings.TICKET_TEXT_MAX_BYTES = 100
    response = _reply(customer_client, ticket, "x" * 101)
    assert response.status_code == 200
    assert "the most we accept is 100" in response.context["reply_form"].errors["body"][0]
    assert not ticket.messages.exists()


@pytest.mark.django_db
def test_the_services_refuse_text_over_the_cap_whoever_calls_them(
    customer, service, priority, ticket, tier1_staff, settings
):
    """Email, API or admin paths that skip the forms meet the same cap in the services: a
    4 MiB description is refused with nothing stored and no email recorded; so is a reply."""
    Notification.objects.all().delete()
    huge = "A" * (4 * 1024 * 1024)
    with pytest.raises(ValidationError) as refused:
        services.ticket_create(
            customer=customer, service=service, priority=priority, subject="S", description=huge
        )
    assert "the most we accept is 64.0\xa0KB" in refused.value.message_dict["description"][0]
    for author in (customer, tier1_staff):
        with pytest.raises(ValidationError) as refused:
            services.ticket_reply(ticket=ticket, author=author, body=huge)
        assert "body" in refused.value.message_dict
    assert Ticket.objects.count() == 1 and not Message.objects.exists()
    assert not Notification.objects.exists()
