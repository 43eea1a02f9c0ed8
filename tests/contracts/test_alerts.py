"""The 80 % and 100 % emails: recorded with the time that crosses the threshold, once per
organisation, month and threshold, to the members and the service's management contacts."""

from datetime import UTC, date, datetime

import pytest
from django.db import transaction

from contracts import services
from contracts.models import UsageAlert
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tests.contracts.factories import OrganizationMemberFactory, SupportContractFactory

pytestmark = pytest.mark.django_db


def outbox():
    return sorted(
        Notification.objects.filter(key__startswith="contracts:").values_list("key", "to")
    )


def alerts():
    return sorted(UsageAlert.objects.values_list("month", "threshold"))


@pytest.fixture
def log(clock, org_ticket, staff):
    def log(hours=0, minutes=0, **kwargs):
        return services.time_entry_log(
            ticket=org_ticket, by=staff, minutes=hours * 60 + minutes, **kwargs
        )

    return log


def test_80_percent_is_emailed_once_to_members_and_managers(log, org, member, manager, mailoutbox):
    """15 h 59 min of 20 is 79 %: nothing. 16 h is 80 %: one email each. 19 h: none more."""
    log(15, 59)
    assert outbox() == []
    log(minutes=1)
    prefix = f"contracts:usage:{org.pk}:2026-01:80"
    assert outbox() == [
        (f"{prefix}:contact:{manager.pk}", "pm@provider.example"),
        (f"{prefix}:member:{member.pk}", "ann@acme.example"),
    ]
    log(3)
    assert len(outbox()) == 2
    assert alerts() == [(date(2026, 1, 1), 80)]
    alert = UsageAlert.objects.get()
    assert (alert.used_minutes, alert.included_minutes) == (16 * 60, 20 * 60)

    notifications_send_due()
    by_address = {message.to[0]: message for message in mailoutbox}
    customer, pm = by_address["ann@acme.example"], by_address["pm@provider.example"]
    assert customer.subject == (
        "Acme Estates: 80 % of January 2026's support hours used (16 of 20 h)"
    )
    assert "4 hours are left this month" in customer.body
    assert "http://testserver/" in customer.body
    assert "/admin/contracts/organization/usage/?month=2026-01" in pm.body
    assert "/admin/" not in customer.body


def test_a_member_who_joins_after_the_80_percent_email_is_not_sent_it(log, org, member):
    """The threshold's email went out with the time that crossed it; more time in the same
    month records nothing, not even for a member added since."""
    log(16)
    late = OrganizationMemberFactory(
        organization=org,
        user=factories.CustomerFactory(email="bob@acme.example", services=[org.service]),
    ).user
    log(1)
    assert [to for _, to in outbox()] == ["ann@acme.example"]
    assert not Notification.objects.filter(to=late.email).exists()


def test_100_percent_is_emailed_once_after_80(log, org, member):
    log(17)
    log(3)  # exactly 20 of 20 h
    log(2)
    assert alerts() == [(date(2026, 1, 1), 80), (date(2026, 1, 1), 100)]
    assert [key.rsplit(":", 3)[1] for key, _ in outbox()] == ["100", "80"]


def test_one_entry_crossing_both_thresholds_records_both(log, org, member, mailoutbox):
    log(10)
    log(12)  # 50 % → 110 %
    assert alerts() == [(date(2026, 1, 1), 80), (date(2026, 1, 1), 100)]
    assert len(outbox()) == 2
    notifications_send_due()
    subjects = sorted(message.subject for message in mailoutbox)
    assert subjects == [
        "Acme Estates: 80 % of January 2026's support hours used (22 of 20 h)",
        "Acme Estates: all of January 2026's support hours used (22 of 20 h)",
    ]


def test_each_month_has_its_own_emails(log, org, member, clock):
    log(20)
    clock.move_to("2026-02-03 15:00Z")
    log(16)
    assert alerts() == [
        (date(2026, 1, 1), 80),
        (date(2026, 1, 1), 100),
        (date(2026, 2, 1), 80),
    ]
    assert len(outbox()) == 3


def test_time_logged_late_for_last_month_counts_and_alerts_in_last_month(log, org, member, clock):
    clock.move_to("2026-02-03 15:00Z")
    log(17, at=datetime(2026, 1, 31, 22, 0, tzinfo=UTC))
    assert alerts() == [(date(2026, 1, 1), 80)]
    assert outbox()[0][0].startswith(f"contracts:usage:{org.pk}:2026-01:80:")


def test_a_correction_under_the_threshold_does_not_resend(log, org, member, staff):
    entry = log(17)
    services.time_entry_void(entry=entry, by=staff, reason="wrong ticket")
    log(17)
    assert alerts() == [(date(2026, 1, 1), 80)]
    assert len(outbox()) == 1


def test_a_smaller_contract_mid_month_can_cross_a_threshold(
    clock, log, org, member, staff, premium, service
):
    services.organization_set_contract(
        organization=org, contract=premium, month=date(2026, 1, 1), by=staff
    )
    log(15)  # 15 of 80 h
    assert alerts() == []
    tiny = SupportContractFactory(service=service, name="Tiny", hours_per_month=18)
    services.organization_set_contract(
        organization=org, contract=tiny, month=date(2026, 1, 1), by=staff
    )
    assert alerts() == [(date(2026, 1, 1), 80)]


def test_no_contract_no_email(log, org, member, staff):
    services.organization_set_contract(
        organization=org, contract=None, month=date(2026, 1, 1), by=staff
    )
    log(24)
    assert alerts() == [] and outbox() == []


def test_a_rolled_back_log_records_no_alert_and_no_email(log, org, member):
    with pytest.raises(RuntimeError), transaction.atomic():
        log(18)
        assert len(outbox()) == 1
        raise RuntimeError("the surrounding work failed")
    assert alerts() == [] and outbox() == []
    log(18)  # the threshold is still to be announced
    assert len(outbox()) == 1


def test_one_email_per_address_and_none_to_inactive_members(log, org, member, manager, service):
    """A manager who is also listed twice, or by user, gets one email; an inactive member none."""
    OrganizationMemberFactory(
        organization=org, user=factories.CustomerFactory(email="gone@acme.example", is_active=False)
    )
    factories.ManagementContactFactory(
        service=service, role="Project Manager", email="PM@provider.example"
    )
    log(17)
    assert sorted(to for _, to in outbox()) == ["ann@acme.example", "pm@provider.example"]


def test_user_text_is_escaped_in_the_html_email_only(log, org, member, mailoutbox):
    org.name = "R&D <b>Estates</b>"
    org.save(update_fields=["name"])
    log(17)
    notifications_send_due()
    message = mailoutbox[0]
    html = message.alternatives[0].content
    assert "R&amp;D &lt;b&gt;Estates&lt;/b&gt;" in html
    assert "<b>Estates</b>" not in html
    assert "R&D <b>Estates</b> has used 85 %" in message.body
    assert message.subject.startswith("R&D <b>Estates</b>: 80 %")
