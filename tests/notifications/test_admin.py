"""Superusers see the email outbox read-only and can put failed emails back in the queue;
tier staff do not see it at all, and nobody reads a credential in it."""

import re

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


def test_retry_delivery_requeues_failed_rows_and_skips_sent_ones(client, superuser):
    """ "Retry delivery" makes a failed email pending and due now; a sent one is left alone."""
    failed = notification(
        1,
        status=Notification.Status.FAILED,
        attempts=5,
        last_error="SMTPServerDisconnected: gone",
        next_attempt_at=timezone.now() + timezone.timedelta(days=1),
    )
    sent = notification(2, status=Notification.Status.SENT, sent_at=timezone.now(), attempts=1)
    client.force_login(superuser)

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


def test_outbox_is_read_only_for_superusers(client, superuser):
    """Nobody adds, edits or deletes outbox rows by hand, a superuser neither; they read them."""
    row = notification(1, last_error="boom")
    client.force_login(superuser)
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


def test_outbox_list_filters_searches_and_costs_constant_queries(client, superuser):
    """The list filters by status, searches by address, subject or key, in fixed queries."""
    notification(1, status=Notification.Status.FAILED)
    client.force_login(superuser)
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


@pytest.mark.parametrize("tier", [1, 3])
def test_tier_staff_have_no_outbox(client, tier):
    """Outbox emails carry ticket content of every tier (and account credentials): tier staff,
    Tier 3 included, get 403 on its list, a row and the retry action, and no entry on the
    admin index."""
    row = notification(1, status=Notification.Status.FAILED, last_error="boom")
    client.force_login(factories.StaffFactory(tier=tier))

    assert client.get(CHANGELIST).status_code == 403
    change = reverse("admin:notifications_notification_change", args=[row.pk])
    assert client.get(change).status_code == 403
    response = client.post(CHANGELIST, {"action": "retry_delivery", "_selected_action": [row.pk]})
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "notifications" not in {app["app_label"] for app in index.context["app_list"]}
    assert CHANGELIST not in index.content.decode()


def test_superusers_see_the_outbox_on_the_admin_index(client, superuser):
    """The outbox is the superusers' own: on their admin index, its list and rows open."""
    row = notification(1)
    client.force_login(superuser)
    index = client.get(reverse("admin:index"))
    assert "notifications" in {app["app_label"] for app in index.context["app_list"]}
    assert client.get(CHANGELIST).status_code == 200
    change = reverse("admin:notifications_notification_change", args=[row.pk])
    assert client.get(change).status_code == 200


def test_a_superuser_never_reads_account_credentials_in_the_outbox(client, superuser):
    """Verification and password-reset emails are listed for superusers, but their links (and
    the row key made from the token) show the token masked."""
    from accounts import emails as account_emails

    target = factories.UserFactory(is_staff=True, is_superuser=True)
    account_emails.verify_email(target)
    account_emails.password_reset(
        user=target, uidb64="MQ", token="c4x1y2-0123456789abcdef0123", to=target.email
    )
    rows = list(Notification.objects.filter(key__startswith="accounts:"))
    assert len(rows) == 2
    client.force_login(superuser)

    assert {row.key for row in client.get(CHANGELIST).context["cl"].result_list} >= {
        row.key for row in rows
    }
    for row in rows:
        token = re.search(r"/(?:verify|reset)/[^/]+/([^/\s]+)/", row.body_text).group(1)
        assert token in row.key  # the key is made from it too
        page = client.get(reverse("admin:notifications_notification_change", args=[row.pk]))
        content = page.content.decode()
        assert token not in content
        assert "/&lt;masked&gt;/" in content


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
