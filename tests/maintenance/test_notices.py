"""Lead-time notices, catch-up, updates and cancellations, quarterly calendars: each once."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from maintenance.models import NoticeDelivery, NoticeRound, Subscription
from maintenance.notices import notices_send_due
from maintenance.services import occurrence_cancel, occurrence_move
from maintenance.subscriptions import subscription_unsubscribe
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tests.maintenance.conftest import NOW, SUNDAY, make_policy, make_window, subscribe_customers

Kind, Status = NoticeRound.Kind, NoticeRound.Status


def run(clock, at):
    clock.move_to(at)
    return notices_send_due()


def keys(prefix="maint:"):
    return sorted(Notification.objects.filter(key__startswith=prefix).values_list("key", flat=True))


def rounds():
    return {(r.kind, r.lead, r.status) for r in NoticeRound.objects.all()}


def test_48h_notice_goes_once_to_each_subscriber_when_its_lead_time_is_reached(
    clock, weekly, service, mailoutbox
):
    """Nothing a minute before 48 h; at 48 h each subscriber gets one email, however often the
    sweep runs; every email carries its own unsubscribe link and the RFC 8058 headers."""
    subscribe_customers(service, 3)
    assert run(clock, SUNDAY - timedelta(hours=48, minutes=1)) == 0
    assert run(clock, SUNDAY - timedelta(hours=48)) == 3
    assert run(clock, SUNDAY - timedelta(hours=47)) == 0
    assert run(clock, SUNDAY - timedelta(hours=1)) == 0
    assert len(keys()) == 3
    notifications_send_due()
    assert sorted(m.to[0] for m in mailoutbox) == [f"sub{i}@example.com" for i in range(3)]
    links = set()
    for message in mailoutbox:
        assert "Scheduled downtime" in message.subject
        assert "Full downtime" in message.body
        url = message.extra_headers["List-Unsubscribe"].strip("<>")
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert url in message.body and url in message.alternatives[0][0]
        links.add(url)
    assert len(links) == 3
    assert "@@" not in mailoutbox[0].body


def test_7d_and_48h_notices_each_go_once(clock, service):
    """Two lead times: a 7-day and a 48-hour email, each at its own moment."""
    make_policy(service, notices=["7d", "48h"])
    make_window(service, rrule="", date=date(2027, 1, 20), start=time(2))
    starts = datetime(2027, 1, 20, 2, tzinfo=UTC)
    subscribe_customers(service, 2)
    assert run(clock, starts - timedelta(days=7, minutes=1)) == 0
    assert run(clock, starts - timedelta(days=7)) == 2
    assert run(clock, starts - timedelta(days=3)) == 0
    assert run(clock, starts - timedelta(hours=48)) == 2
    assert rounds() == {(Kind.NOTICE, "7d", Status.DONE), (Kind.NOTICE, "48h", Status.DONE)}
    assert len(keys()) == 4


def test_catch_up_sends_only_the_latest_due_lead_and_records_the_older_skipped(clock, service):
    """Beat was down through the 7-day moment: at 47 h only the 48-hour notice goes out."""
    make_policy(service, notices=["7d", "48h"])
    make_window(service, rrule="", date=date(2027, 1, 20), start=time(2))
    starts = datetime(2027, 1, 20, 2, tzinfo=UTC)
    subscribe_customers(service, 2)
    assert run(clock, starts - timedelta(hours=47)) == 2
    assert rounds() == {(Kind.NOTICE, "7d", Status.SKIPPED), (Kind.NOTICE, "48h", Status.DONE)}
    assert all(key.endswith(":48h:" + key.rsplit(":", 1)[1]) for key in keys())
    assert run(clock, starts - timedelta(hours=46)) == 0


def test_nothing_for_an_occurrence_that_has_started(clock, weekly, service):
    """Beat was down until the window began: no notice for it, late or not."""
    subscribe_customers(service, 2)
    assert run(clock, SUNDAY + timedelta(minutes=1)) == 0
    assert NoticeRound.objects.count() == 0


def test_a_pending_round_stops_when_its_window_begins(clock, weekly, service):
    """A round created before the start but not worked through stops at the start."""
    subscribe_customers(service, 2)
    clock.move_to(SUNDAY - timedelta(hours=1))
    from maintenance.notices import rounds_create_due
    from maintenance.selectors import policies_by_service

    rounds_create_due(now=SUNDAY - timedelta(hours=1), policies=policies_by_service())
    assert run(clock, SUNDAY + timedelta(minutes=1)) == 0
    assert rounds() == {(Kind.NOTICE, "48h", Status.STOPPED)}


def test_a_window_scheduled_at_short_notice_is_announced_at_once(clock, service):
    """A one-off 5 hours ahead, less than the 48 h lead: its notice goes at the next sweep."""
    make_policy(service, notices=["7d", "48h"])
    subscribe_customers(service, 2)
    make_window(service, name="Emergency patch", rrule="", date=date(2027, 1, 6), start=time(5))
    assert run(clock, NOW) == 2
    assert rounds() == {(Kind.NOTICE, "7d", Status.SKIPPED), (Kind.NOTICE, "48h", Status.DONE)}


def test_a_move_after_the_notice_sends_one_update_to_those_notified(
    clock, weekly, service, mailoutbox
):
    """Moved after the 48 h notice: the notified get "updated" once; a later subscriber not."""
    subscribe_customers(service, 2)
    run(clock, SUNDAY - timedelta(hours=48))
    subscribe_customers(service, 1, prefix="late")
    clock.move_to(SUNDAY - timedelta(hours=30))
    occurrence_move(window=weekly, starts_at=SUNDAY, new_start=SUNDAY + timedelta(hours=1), by=None)
    assert run(clock, SUNDAY - timedelta(hours=29)) == 2
    assert run(clock, SUNDAY - timedelta(hours=28)) == 0
    updated = [k for k in keys() if k.startswith("maint:updated:")]
    assert len(updated) == 2
    notifications_send_due()
    moved = [m for m in mailoutbox if m.subject.startswith("Maintenance moved")]
    assert sorted(m.to[0] for m in moved) == ["sub0@example.com", "sub1@example.com"]
    assert "03:00" in moved[0].subject and "02:00" in moved[0].body


def test_a_cancellation_after_the_notice_sends_one_cancellation(clock, weekly, service, mailoutbox):
    """Cancelled after the notice: one "cancelled" email to each notified subscriber."""
    subscribe_customers(service, 2)
    run(clock, SUNDAY - timedelta(hours=48))
    occurrence_cancel(window=weekly, starts_at=SUNDAY, by=None, reason="No changes pending")
    occurrence_cancel(window=weekly, starts_at=SUNDAY, by=None)  # twice: still one email
    assert run(clock, SUNDAY - timedelta(hours=47)) == 2
    assert run(clock, SUNDAY - timedelta(hours=46)) == 0
    notifications_send_due()
    cancelled = [m for m in mailoutbox if m.subject.startswith("Maintenance cancelled")]
    assert len(cancelled) == 2
    assert "will not take place" in cancelled[0].body


def test_a_cancellation_before_any_notice_sends_nothing(clock, weekly, service):
    """Cancelled before its notice: no notice, no cancellation."""
    subscribe_customers(service, 2)
    occurrence_cancel(window=weekly, starts_at=SUNDAY, by=None)
    assert run(clock, SUNDAY - timedelta(hours=47)) == 0
    assert keys() == []


def test_unsubscribed_people_get_nothing(clock, weekly, service):
    """An unsubscribed or unconfirmed subscription gets no notice."""
    subs = subscribe_customers(service, 3)
    from maintenance.emails import unsubscribe_token

    subscription_unsubscribe(token=unsubscribe_token(subs[0].token))
    Subscription.objects.create(service=service, email="unconfirmed@example.com")
    assert run(clock, SUNDAY - timedelta(hours=48)) == 2
    assert NoticeDelivery.objects.filter(subscription=subs[0]).count() == 0


def test_customers_are_subscribed_by_default(clock, weekly, service, customer_of):
    """A customer added with customer_add_service, or linked any other way, gets the notice;
    a customer of another service does not."""
    added = customer_of(service)
    linked = factories.CustomerFactory(services=[service])
    factories.CustomerFactory(services=[factories.ServiceFactory()])
    assert Subscription.objects.filter(user=added, confirmed_at__isnull=False).exists()
    assert run(clock, SUNDAY - timedelta(hours=48)) == 2
    recipients = set(Notification.objects.values_list("to", flat=True))
    assert recipients == {added.email, linked.email}


def test_the_quarterly_calendar_goes_once_before_the_quarter(clock, service, mailoutbox):
    """quarterly_digest 14d: 14 days before 1 April every subscriber gets the quarter's
    windows in one email, once."""
    make_policy(service, notices=["7d", "48h"], quarterly_digest="14d")
    make_window(
        service,
        name="Security updates",
        rrule="FREQ=MONTHLY;BYDAY=+1MO",
        timezone="America/New_York",
        duration="4h",
    )
    service.timezone = "America/New_York"
    service.save(update_fields=["timezone"])
    subscribe_customers(service, 2)
    quarter = datetime(2027, 4, 1, 4, tzinfo=UTC)  # midnight in New York (EDT)
    assert run(clock, quarter - timedelta(days=14, minutes=1)) == 0
    assert run(clock, quarter - timedelta(days=14)) == 2
    assert run(clock, quarter - timedelta(days=13)) == 0
    notifications_send_due()
    digest = [m for m in mailoutbox if "maintenance calendar" in m.subject]
    assert len(digest) == 2
    assert "Mon 5 Apr 2027, 02:00" in digest[0].body
    assert "Mon 3 May 2027" in digest[0].body and "Mon 7 Jun 2027" in digest[0].body


@pytest.mark.django_db
def test_no_email_channel_no_notice(clock, service):
    """A policy with only the banner channel sends no email."""
    make_policy(service, channels=["banner"])
    make_window(service)
    subscribe_customers(service, 2)
    assert run(clock, SUNDAY - timedelta(hours=48)) == 0


def test_a_round_created_before_a_cancellation_sends_nothing(clock, weekly, service):
    """A sweep that read the occurrence just before it was cancelled creates its round; the
    round's first batch sees the cancellation and stops: no notice, no cancellation."""
    from maintenance.notices import rounds_create_due
    from maintenance.selectors import policies_by_service

    subscribe_customers(service, 2)
    clock.move_to(SUNDAY - timedelta(hours=48))
    rounds_create_due(now=SUNDAY - timedelta(hours=48), policies=policies_by_service())
    occurrence_cancel(window=weekly, starts_at=SUNDAY, by=None)
    assert notices_send_due() == 0
    assert rounds() == {(Kind.NOTICE, "48h", Status.STOPPED)}


def test_a_round_created_before_a_move_announces_the_new_time(clock, weekly, service, mailoutbox):
    """Moved between the round's creation and its first batch: the notice says the new time."""
    from maintenance.notices import rounds_create_due
    from maintenance.selectors import policies_by_service

    subscribe_customers(service, 1)
    clock.move_to(SUNDAY - timedelta(hours=48))
    rounds_create_due(now=SUNDAY - timedelta(hours=48), policies=policies_by_service())
    occurrence_move(window=weekly, starts_at=SUNDAY, new_start=SUNDAY + timedelta(hours=3), by=None)
    assert notices_send_due() == 1
    notifications_send_due()
    (message,) = mailoutbox
    assert "05:00" in message.subject
    assert NoticeRound.objects.get().starts_at == SUNDAY + timedelta(hours=3)


def test_a_notice_says_why_it_was_sent(clock, weekly, service, mailoutbox):
    """A customer, whose subscription came with their membership, is told they are a
    customer; an address that subscribed is told it subscribed. Neither reads the other's
    reason."""
    from tickets.services import customer_add_service

    subscribe_customers(service, 1)
    customer = factories.CustomerFactory(email="member@example.com")
    customer_add_service(customer=customer, service=service)
    mailoutbox.clear()
    run(clock, SUNDAY - timedelta(hours=48))
    notifications_send_due()
    bodies = {m.to[0]: (m.body, m.alternatives[0][0]) for m in mailoutbox}
    for text in bodies["member@example.com"]:
        assert f"because you are a customer of {service.name}" in text
        assert "you subscribed" not in text
    for text in bodies["sub0@example.com"]:
        assert "because you subscribed to the maintenance notices of" in text
        assert "customer of" not in text
