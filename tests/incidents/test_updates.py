"""Public updates reach the service's subscribers and customers once each; internal notes
reach nobody."""

from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from incidents import services
from incidents.models import IncidentUpdate
from maintenance.models import Subscription
from notifications.models import Notification
from notifications.services import notifications_send_due
from tests import factories
from tickets.services import customer_add_service

pytestmark = pytest.mark.django_db

CONFIRMED = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def audience(service):
    """Who is (and is not) to hear of the service's incidents."""
    customers = [factories.CustomerFactory(email=f"customer{i}@example.com") for i in range(2)]
    for customer in customers:
        customer_add_service(customer=customer, service=service)
    # A customer made a member some other way (no subscription row yet): subscribed by default.
    factories.CustomerFactory(email="member@example.com", services=[service])
    # A customer who unsubscribed from the service's notices hears nothing.
    quiet = factories.CustomerFactory(email="quiet@example.com")
    customer_add_service(customer=quiet, service=service)
    Subscription.objects.filter(user=quiet).update(unsubscribed_at=CONFIRMED)
    emails = {
        "subscriber@example.com": CONFIRMED,
        "CUSTOMER0@example.com": CONFIRMED,  # the same person as customer0: one email
        "unconfirmed@example.com": None,
    }
    for address, confirmed in emails.items():
        Subscription.objects.create(service=service, email=address, confirmed_at=confirmed)
    # Another service's people hear nothing of this one.
    other = factories.ServiceFactory()
    customer_add_service(
        customer=factories.CustomerFactory(email="elsewhere@example.com"), service=other
    )
    Subscription.objects.create(service=other, email="other@example.com", confirmed_at=CONFIRMED)
    return {
        "customer0@example.com",
        "customer1@example.com",
        "member@example.com",
        "subscriber@example.com",
    }


def outbox(update):
    return list(
        Notification.objects.filter(key__startswith=f"incident-update:{update.pk}:").values_list(
            "to", flat=True
        )
    )


def test_a_public_update_is_emailed_once_to_each_subscriber_and_customer(
    clock, open_incident, staff, audience, mailoutbox
):
    incident = open_incident(title="Checkout fails")
    update = services.incident_post_update(
        incident=incident, body="We are rolling back.", public=True, by=staff
    )
    assert {address.lower() for address in outbox(update)} == audience
    assert len(outbox(update)) == len(audience)

    notifications_send_due()
    assert Counter(message.to[0].lower() for message in mailoutbox) == Counter(audience)
    links = set()
    for message in mailoutbox:
        assert "Checkout fails" in message.subject
        assert "We are rolling back." in message.body
        url = message.extra_headers["List-Unsubscribe"].strip("<>")
        assert url in message.body and "/maintenance/unsubscribe/" in url
        links.add(url)
    assert len(links) == len(audience)  # each recipient's own link


def test_recording_again_sends_nobody_a_second_email(
    clock, open_incident, staff, audience, service, mailoutbox
):
    """Run twice: nothing new. A subscriber who joined since gets theirs, once."""
    incident = open_incident()
    update = services.incident_post_update(incident=incident, body="Fixed.", public=True, by=staff)
    assert services.incident_update_notify(update=update) == 0
    Subscription.objects.create(service=service, email="late@example.com", confirmed_at=CONFIRMED)
    assert services.incident_update_notify(update=update) == 1
    assert services.incident_update_notify(update=update) == 0
    notifications_send_due()
    notifications_send_due()
    counts = Counter(message.to[0].lower() for message in mailoutbox)
    assert set(counts) == audience | {"late@example.com"}
    assert set(counts.values()) == {1}


def test_an_internal_note_is_never_sent(clock, open_incident, staff, audience, mailoutbox):
    incident = open_incident()
    note = services.incident_post_update(
        incident=incident, body="Suspect the new index.", public=False, by=staff
    )
    assert not note.public
    assert services.incident_update_notify(update=note) == 0
    assert not Notification.objects.exists()
    notifications_send_due()
    assert mailoutbox == []


def test_each_public_update_is_news_of_its_own(clock, open_incident, staff, audience):
    incident = open_incident()
    first = services.incident_post_update(incident=incident, body="Looking.", public=True, by=staff)
    second = services.incident_post_update(incident=incident, body="Fixed.", public=True, by=staff)
    assert len(outbox(first)) == len(outbox(second)) == len(audience)


def test_user_text_is_escaped_in_the_html_email(clock, open_incident, staff, audience, mailoutbox):
    incident = open_incident(title="<b>Bold</b> & co")
    services.incident_post_update(
        incident=incident, body="<script>alert(1)</script>", public=True, by=staff
    )
    notifications_send_due()
    message = mailoutbox[0]
    html = message.alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Bold</b>" not in html
    assert "<script>alert(1)</script>" in message.body  # the plain text is plain
    assert message.subject.endswith("<b>Bold</b> & co")


def test_an_empty_update_is_refused_and_nothing_is_recorded(clock, open_incident, staff, audience):
    incident = open_incident()
    with pytest.raises(ValidationError, match="Write the update"):
        services.incident_post_update(incident=incident, body="  \n ", public=True, by=staff)
    assert not IncidentUpdate.objects.exists()
    assert not Notification.objects.exists()


def test_an_over_long_update_is_refused_and_nothing_is_recorded(
    clock, open_incident, staff, audience
):
    incident = open_incident()
    with pytest.raises(ValidationError, match="at most 20000 characters"):
        services.incident_post_update(
            incident=incident, body="x" * (services.MAX_UPDATE_LENGTH + 1), public=True, by=staff
        )
    assert not IncidentUpdate.objects.exists()
    assert not Notification.objects.exists()
    update = services.incident_post_update(
        incident=incident, body="x" * services.MAX_UPDATE_LENGTH, public=True, by=staff
    )
    assert len(outbox(update)) == len(audience)  # the limit itself is allowed


def test_nothing_is_sent_when_the_update_rolls_back(clock, open_incident, staff, audience):
    """The emails are recorded in the update's transaction: no update, no email."""
    from django.db import transaction

    incident = open_incident()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.incident_post_update(incident=incident, body="Looking.", public=True, by=staff)
        raise RuntimeError("the request failed after posting")
    assert not IncidentUpdate.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.postgres
def test_the_queries_of_a_public_update_do_not_grow_with_its_recipients(
    clock, open_incident, staff, service
):
    """Three subscribers or three hundred (customers and email subscriptions): the same
    queries — the outbox rows go in one INSERT, never a query per recipient. (PostgreSQL:
    SQLite's bulk insert splits by its bound-parameter limit, a few hundred rows a query.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def subscribe(start, count):
        for n in range(start, start + count):
            customer_add_service(
                customer=factories.CustomerFactory(email=f"c{n}@example.com"), service=service
            )
            Subscription.objects.create(
                service=service, email=f"s{n}@example.com", confirmed_at=CONFIRMED
            )

    incident = open_incident()
    subscribe(0, 3)
    with CaptureQueriesContext(connection) as few:
        first = services.incident_post_update(incident=incident, body="1", public=True, by=staff)
    subscribe(3, 147)
    with CaptureQueriesContext(connection) as many:
        second = services.incident_post_update(incident=incident, body="2", public=True, by=staff)
    assert (len(outbox(first)), len(outbox(second))) == (6, 300)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_recipients_read_in_pages_each_get_one_email(
    clock, open_incident, staff, service, monkeypatch
):
    """Pages of two subscriptions, outbox keys checked three at a time: an address held by
    two subscriptions on different pages is still written once, and nobody is left out."""
    from incidents import selectors

    monkeypatch.setattr(selectors, "_RECIPIENT_PAGE", 2)
    monkeypatch.setattr(services.updates, "_KEY_CHUNK", 3)
    addresses = [f"p{n}@example.com" for n in range(7)]
    for address in addresses:
        Subscription.objects.create(service=service, email=address, confirmed_at=CONFIRMED)
    customer_add_service(
        customer=factories.CustomerFactory(email="P0@example.com"), service=service
    )
    incident = open_incident()
    update = services.incident_post_update(incident=incident, body="Down", public=True, by=staff)
    assert sorted(address.lower() for address in outbox(update)) == addresses
    Subscription.objects.create(service=service, email="p7@example.com", confirmed_at=CONFIRMED)
    assert services.incident_update_notify(update=update) == 1
    assert len(outbox(update)) == 8
