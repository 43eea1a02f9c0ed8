"""Staff see the email outbox read-only and can put failed emails back in the queue."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def notification(n, **fields):
    fields.setdefault("status", Notification.Status.PENDING)
    return Notification.objects.create(
        key=f"test:{n}",
        to=f"person{n}@example.com",
        subject=f"Subject {n}",
        body_text="Hi",
        **fields,
    )


def test_retry_delivery_requeues_failed_rows_and_skips_sent_ones(client, tier1_staff):
    """ "Retry delivery" makes a failed email pending and due now; a sent one is left alone."""
    failed = notification(
        1,
        status=Notification.Status.FAILED,
        attempts=5,
        last_error="SMTPServerDisconnected: gone",
        next_attempt_at=timezone.now() + timezone.timedelta(days=1),
    )
    sent = notification(2, status=Notification.Status.SENT, sent_at=timezone.now(), attempts=1)
    client.force_login(tier1_staff)

    response = client.post(
        CHANGELIST,
        {"action": "retry_delivery", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == Notification.Status.PENDING
    assert failed.next_attempt_at <= timezone.now()
    assert sent.status == Notification.Status.SENT
    notes = [str(m) for m in response.context["messages"]]
    assert "1 queued for another delivery attempt." in notes
    assert "1 already sent; not sent again." in notes


def test_outbox_is_read_only_for_staff(client, tier1_staff):
    """Nobody adds, edits or deletes outbox rows by hand; staff can read them."""
    row = notification(1, last_error="boom")
    client.force_login(tier1_staff)
    response = client.get(reverse("admin:notifications_notification_change", args=[row.pk]))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403
    response = client.post(
        reverse("admin:notifications_notification_change", args=[row.pk]),
        {"to": "evil@example.com"},
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.to == "person1@example.com"


def test_outbox_list_filters_searches_and_costs_constant_queries(client, tier1_staff):
    """The list filters by status, searches by address, subject or key, in fixed queries."""
    notification(1, status=Notification.Status.FAILED)
    client.force_login(tier1_staff)
    client.get(CHANGELIST)
    with CaptureQueriesContext(connection) as one:
        client.get(CHANGELIST)
    for n in range(2, 30):
        notification(n)
    with CaptureQueriesContext(connection) as many:
        client.get(CHANGELIST)
    assert len(many.captured_queries) == len(one.captured_queries)

    def listed(**params):
        response = client.get(CHANGELIST, params)
        return {row.key for row in response.context["cl"].result_list}

    assert listed(status="failed") == {"test:1"}
    assert listed(q="person7@example.com") == {"test:7"}
    assert listed(q="Subject 12") == {"test:12"}
    assert listed(q="test:3") == {"test:3"}


def test_staff_never_see_emails_that_carry_account_credentials(client, tier1_staff, superuser):
    """Verification and password-reset links stay out of tier staff's sight (and search)."""
    from accounts import emails as account_emails

    target = factories.UserFactory(is_staff=True, is_superuser=True)
    account_emails.verify_email(target)
    account_emails.password_reset(user=target, uidb64="MQ", token="abc-123", to=target.email)
    ticket_mail = notification(1)
    secret_keys = set(Notification.objects.exclude(pk=ticket_mail.pk).values_list("key", flat=True))
    assert len(secret_keys) == 2
    client.force_login(tier1_staff)

    response = client.get(CHANGELIST)
    assert {row.key for row in response.context["cl"].result_list} == {ticket_mail.key}
    assert not client.get(CHANGELIST, {"q": "password_reset"}).context["cl"].result_list
    for row in Notification.objects.filter(key__in=secret_keys):
        url = reverse("admin:notifications_notification_change", args=[row.pk])
        assert client.get(url).status_code == 302  # "doesn't exist", back to the index

    client.force_login(superuser)
    response = client.get(CHANGELIST)
    assert {row.key for row in response.context["cl"].result_list} >= secret_keys


@pytest.mark.django_db
def test_a_bulk_notice_shows_the_text_its_recipient_got(admin_client):
    """Bulk rows share one body; the admin page shows the recipient's own, filled-in text."""
    from notifications.models import Notification, NotificationBody

    body = NotificationBody.objects.create(
        subject="Maintenance", body_text="Unsubscribe: @@UNSUB@@", body_html=""
    )
    row = Notification.objects.create(
        key="bulk:1",
        to="p@example.com",
        subject="Maintenance",
        body_text="",
        body=body,
        substitutions={"@@UNSUB@@": "https://example.com/u/abc"},
    )
    response = admin_client.get(f"/admin/notifications/notification/{row.pk}/change/")
    assert response.status_code == 200
    assert "https://example.com/u/abc" in response.content.decode()
