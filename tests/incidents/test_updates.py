"""Public updates reach the service's subscribers and customers once each, recorded in the
background (``incidents.fanout``); internal notes reach nobody."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents import fanout, services
from incidents.models import IncidentUpdate
from incidents.tasks import send_incident_update, send_incident_updates
from maintenance.models import Subscription
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from portal.celery import app
from tests import factories
from tests.incidents.conftest import NOW
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
    # Adding a customer to a service emails them that they have access: not these tests'
    # business, which count the incident emails (and pin that nothing else is recorded).
    Notification.objects.all().delete()
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


@pytest.fixture
def eager_tasks():
    """``.delay()`` runs the task in place, as a worker would after commit."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_a_public_update_is_emailed_once_to_each_subscriber_and_customer(
    clock, open_incident, staff, audience, mailoutbox
):
    """Posting records no email; the sweep records one per address; the outbox delivers."""
    incident = open_incident(title="Checkout fails")
    update = services.incident_post_update(
        incident=incident, body="We are rolling back.", public=True, by=staff
    )
    assert update.emails_pending and outbox(update) == []

    assert send_incident_updates() == len(audience)
    assert {address.lower() for address in outbox(update)} == audience
    assert len(outbox(update)) == len(audience)
    update.refresh_from_db()
    assert not update.emails_pending
    assert (update.emails_recorded, update.emails_done_at) == (len(audience), NOW)

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


def test_the_task_enqueued_on_commit_records_the_emails(
    clock, open_incident, staff, audience, eager_tasks, django_capture_on_commit_callbacks
):
    """Nothing before commit; after it, the enqueued task (run in place here) records them."""
    incident = open_incident()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        update = services.incident_post_update(
            incident=incident, body="Looking.", public=True, by=staff
        )
        assert outbox(update) == []
    assert len(callbacks) >= 1
    assert {address.lower() for address in outbox(update)} == audience
    assert not IncidentUpdate.objects.get(pk=update.pk).emails_pending


def test_running_again_records_nothing_and_a_done_update_stays_done(
    clock, open_incident, staff, audience, service, mailoutbox
):
    """The sweep twice, then the update's own task late: nothing new. A subscriber who joins
    after the emails went out does not get the old update (it is on /status/)."""
    incident = open_incident()
    update = services.incident_post_update(incident=incident, body="Fixed.", public=True, by=staff)
    assert send_incident_updates() == len(audience)
    assert send_incident_updates() == 0
    assert send_incident_update(update.pk) == 0
    Subscription.objects.create(service=service, email="late@example.com", confirmed_at=CONFIRMED)
    assert send_incident_updates() == 0
    notifications_send_due()
    notifications_send_due()
    counts = Counter(message.to[0].lower() for message in mailoutbox)
    assert set(counts) == audience
    assert set(counts.values()) == {1}


def test_a_late_sweep_still_sends_the_update(clock, open_incident, staff, audience):
    """Beat down for two days and the incident resolved since: the update still goes out,
    once (each update is news of its own)."""
    incident = open_incident()
    update = services.incident_post_update(
        incident=incident, body="Looking.", public=True, by=staff
    )
    clock.move_to(NOW + timedelta(hours=1))
    services.incident_resolve(incident=incident, by=staff)
    clock.move_to(NOW + timedelta(days=2, hours=1))
    assert send_incident_updates() == len(audience)
    assert len(outbox(update)) == len(audience)


def test_an_internal_note_is_never_sent(
    clock, open_incident, staff, audience, mailoutbox, django_capture_on_commit_callbacks
):
    incident = open_incident()
    with django_capture_on_commit_callbacks() as callbacks:
        note = services.incident_post_update(
            incident=incident, body="Suspect the new index.", public=False, by=staff
        )
    assert not note.public and not note.emails_pending
    assert callbacks == []  # no task enqueued
    assert send_incident_updates() == 0
    assert send_incident_update(note.pk) == 0
    assert not Notification.objects.exists()
    notifications_send_due()
    assert mailoutbox == []


def test_each_public_update_is_news_of_its_own(clock, open_incident, staff, audience):
    incident = open_incident()
    first = services.incident_post_update(incident=incident, body="Looking.", public=True, by=staff)
    second = services.incident_post_update(incident=incident, body="Fixed.", public=True, by=staff)
    assert send_incident_updates() == 2 * len(audience)
    assert len(outbox(first)) == len(outbox(second)) == len(audience)


def test_user_text_is_escaped_in_the_html_email(clock, open_incident, staff, audience, mailoutbox):
    incident = open_incident(title="<b>Bold</b> & co")
    services.incident_post_update(
        incident=incident, body="<script>alert(1)</script>", public=True, by=staff
    )
    send_incident_updates()
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
    assert send_incident_updates() == 0
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
    assert send_incident_updates() == 0
    assert not Notification.objects.exists()
    update = services.incident_post_update(
        incident=incident, body="x" * services.MAX_UPDATE_LENGTH, public=True, by=staff
    )
    send_incident_updates()
    assert len(outbox(update)) == len(audience)  # the limit itself is allowed


def test_nothing_is_sent_when_the_update_rolls_back(
    clock, open_incident, staff, audience, django_capture_on_commit_callbacks
):
    """The update and its mark go together: no update, no task enqueued, nothing to sweep."""
    incident = open_incident()
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.incident_post_update(incident=incident, body="Looking.", public=True, by=staff)
        raise RuntimeError("the request failed after posting")
    assert callbacks == []
    assert not IncidentUpdate.objects.exists()
    assert send_incident_updates() == 0
    assert not Notification.objects.exists()


def subscribe(service, start, count):
    for n in range(start, start + count):
        customer_add_service(
            customer=factories.CustomerFactory(email=f"c{n}@example.com"), service=service
        )
        Subscription.objects.create(
            service=service, email=f"s{n}@example.com", confirmed_at=CONFIRMED
        )


def test_posting_a_public_update_costs_the_same_whatever_the_subscribers(
    clock, open_incident, staff, service
):
    """Three subscribers or three hundred: posting runs the same queries (the emails are the
    background's job), so the admin save does not grow with the audience."""
    incident = open_incident()
    subscribe(service, 0, 3)
    with CaptureQueriesContext(connection) as few:
        services.incident_post_update(incident=incident, body="1", public=True, by=staff)
    subscribe(service, 3, 147)
    with CaptureQueriesContext(connection) as many:
        services.incident_post_update(incident=incident, body="2", public=True, by=staff)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert not Notification.objects.filter(key__startswith="incident-update:").exists()


@pytest.mark.postgres
def test_a_batch_costs_the_same_queries_for_six_recipients_as_for_three_hundred(
    clock, open_incident, staff, service
):
    """One batch: the same queries whatever its size — the outbox rows go in one INSERT,
    never a query per recipient. (PostgreSQL: SQLite's bulk insert splits by its bound-parameter
    limit, a few hundred rows a query.)"""
    incident = open_incident()
    subscribe(service, 0, 3)
    first = services.incident_post_update(incident=incident, body="1", public=True, by=staff)
    with CaptureQueriesContext(connection) as few:
        fanout.update_emails_record(update_id=first.pk)
    subscribe(service, 3, 147)
    second = services.incident_post_update(incident=incident, body="2", public=True, by=staff)
    with CaptureQueriesContext(connection) as many:
        fanout.update_emails_record(update_id=second.pk)
    assert (len(outbox(first)), len(outbox(second))) == (6, 300)
    assert len(many.captured_queries) == len(few.captured_queries)


def between_batches(monkeypatch, before):
    """Run ``before(n, cursor)`` before batch n (0-based) of the fan-out, as something happening
    between two of its transactions would; returns the list of cursors the batches started at."""
    real = fanout._record_batch
    cursors = []

    def batch(update, batch_size):
        before(len(cursors), update.emails_cursor)
        cursors.append(update.emails_cursor)
        return real(update, batch_size)

    monkeypatch.setattr(fanout, "_record_batch", batch)
    return cursors


def test_batches_move_a_cursor_and_record_each_address_once(
    clock, open_incident, staff, service, monkeypatch
):
    """Batches of two subscriptions: an address held by two subscriptions in different batches
    is written once (and counted once); a subscription made while the update is being sent,
    past the cursor, is included; nobody is left out."""
    addresses = [f"p{n}@example.com" for n in range(7)]
    for address in addresses:
        Subscription.objects.create(service=service, email=address, confirmed_at=CONFIRMED)
    customer_add_service(
        customer=factories.CustomerFactory(email="P0@example.com"), service=service
    )
    incident = open_incident()
    update = services.incident_post_update(incident=incident, body="Down", public=True, by=staff)

    def a_visitor_confirms(n, cursor):
        if n == 1:
            Subscription.objects.create(
                service=service, email="p7@example.com", confirmed_at=CONFIRMED
            )

    cursors = between_batches(monkeypatch, a_visitor_confirms)
    assert fanout.update_emails_record(update_id=update.pk, batch_size=2) == 8
    # 9 subscriptions two at a time: 5 batches, the last one short; the cursor only moves on.
    assert len(cursors) == 5 and cursors == sorted(set(cursors))
    assert sorted(address.lower() for address in outbox(update)) == [*addresses, "p7@example.com"]
    update.refresh_from_db()
    assert (update.emails_recorded, update.emails_pending) == (8, False)
    assert update.emails_cursor == Subscription.objects.order_by("-pk").first().pk


def test_one_content_for_every_batch_even_if_the_title_changes_meanwhile(
    clock, open_incident, staff, service, monkeypatch
):
    """Rendered and stored once: a title edited while the emails go out does not split them
    into two versions (and the content is not stored once per batch)."""
    subscribe(service, 0, 3)
    incident = open_incident(title="Checkout fails")
    update = services.incident_post_update(incident=incident, body="Down", public=True, by=staff)

    def staff_edit_the_title(n, cursor):
        if n == 1:
            services.incident_edit(incident=incident, by=staff, title="Payments fail")

    between_batches(monkeypatch, staff_edit_the_title)
    assert fanout.update_emails_record(update_id=update.pk, batch_size=2) == 6
    rows = Notification.objects.filter(key__startswith=f"incident-update:{update.pk}:")
    assert {row.body_id for row in rows} == {IncidentUpdate.objects.get().emails_body_id}
    assert {row.subject.endswith("Checkout fails") for row in rows} == {True}


@pytest.mark.postgres
def test_the_sweep_reads_pending_updates_through_their_partial_index(
    clock, open_incident, staff, service
):
    """Done and internal updates are not in the index: the sweep's cost is the pending ones."""
    incident = open_incident()
    services.incident_post_update(incident=incident, body="Looking", public=True, by=staff)
    with CaptureQueriesContext(connection) as queries:
        fanout.update_emails_send_pending()
    select = queries.captured_queries[0]["sql"]
    assert "emails_pending" in select
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {select}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "incident_update_emails_pending" in plan, plan


def test_beat_runs_the_sweep_every_minute(settings):
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "incidents.tasks.send_incident_updates"
    )
    assert entry["schedule"] == 60.0
    assert send_incident_updates.name == "incidents.tasks.send_incident_updates"
    assert send_incident_update.name == "incidents.tasks.send_incident_update"
