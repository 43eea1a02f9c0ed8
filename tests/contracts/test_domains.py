"""Organisations' email domains and what a verified sign-up gets: an address on a domain joins
the organisation and its service at once; any other waits in a list staff see and are emailed
about; the customer is emailed when access is granted."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contracts import services
from contracts.models import OrganizationDomain, OrganizationMember
from notifications.models import Notification
from sla.models import ServiceCustomer
from tests import factories
from tests.contracts.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-unusual-passphrase-42"


def _sign_up_and_confirm(client, email):
    client.post(
        reverse("signup"), {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
    )
    link = Notification.objects.get(key__contains=":verify:").body_text
    path = re.search(r"http://testserver(/accounts/verify/\S+/)", link).group(1)
    return client.post(path)


@pytest.fixture
def admin_user():
    return factories.UserFactory(is_staff=True, is_superuser=True, email="boss@provider.test")


@pytest.fixture
def acme(admin_user):
    organization = OrganizationFactory(name="Acme")
    services.organization_set_domains(
        organization=organization, domains=["Acme.Example", " @acme-labs.example. "], by=admin_user
    )
    return organization


def test_domains_are_stored_lower_case_and_public_webmail_is_refused(acme, admin_user):
    """Domains are normalised (case, "@", trailing dot); gmail.com and non-domains are refused;
    a domain names one organisation only."""
    assert sorted(acme.email_domains.values_list("domain", flat=True)) == [
        "acme-labs.example",
        "acme.example",
    ]
    for bad in ["gmail.com", "GMAIL.COM", "localhost", "exa mple.com", "-bad.example"]:
        with pytest.raises(ValidationError):
            services.organization_set_domains(organization=acme, domains=[bad], by=admin_user)
    other = OrganizationFactory(name="Other")
    with pytest.raises(ValidationError, match="already a domain of Acme"):
        services.organization_set_domains(
            organization=other, domains=["acme.example"], by=admin_user
        )
    services.organization_set_domains(organization=acme, domains=["acme.example"], by=admin_user)
    assert list(OrganizationDomain.objects.values_list("domain", flat=True)) == ["acme.example"]


def test_a_verified_address_on_a_domain_joins_the_organisation_and_its_service(client, acme):
    """Confirming jo@ACME.example makes jo a member of Acme and a customer of its service at
    once, emailed that access is granted; staff are not asked to do anything."""
    factories.StaffFactory(tier=1, email="t1@provider.test")
    _sign_up_and_confirm(client, "Jo@ACME.example")
    member = OrganizationMember.objects.get()
    assert member.organization == acme and member.user.email == "jo@acme.example"
    assert ServiceCustomer.objects.filter(customer=member.user, service=acme.service).exists()
    granted = Notification.objects.get(key__contains=":access_granted")
    assert granted.to == "jo@acme.example" and acme.service.name in granted.subject
    assert not Notification.objects.filter(key__contains=":waiting:").exists()
    home = client.get(reverse("home"))
    assert acme.service.name in home.text and "What happens next" not in home.text


def test_any_other_address_waits_staff_are_told_and_the_dashboard_says_what_next(
    client, acme, admin_user
):
    """An address on no organisation's domain: no access, Tier 1 is emailed with a link to the
    admin list of sign-ups waiting, which lists the customer; the dashboard explains."""
    tier1 = factories.StaffFactory(tier=1, email="t1@provider.test")
    factories.StaffFactory(tier=2, email="t2@provider.test")
    _sign_up_and_confirm(client, "sam@gmail.com")
    assert not ServiceCustomer.objects.exists() and not OrganizationMember.objects.exists()
    told = Notification.objects.filter(key__contains=":waiting:staff:")
    assert [n.to for n in told] == [tier1.email]
    assert "sam@gmail.com" in told[0].subject
    assert "/admin/accounts/pendingsignup/" in told[0].body_text

    home = client.get(reverse("home"))
    assert "What happens next" in home.text and "cannot file tickets" not in home.text

    client.force_login(tier1)
    listing = client.get(reverse("admin:accounts_pendingsignup_changelist"))
    assert listing.status_code == 200 and "sam@gmail.com" in listing.text
    assert "t1@provider.test" not in listing.text  # staff are not sign-ups


def test_without_tier_1_the_superusers_are_told(client, admin_user):
    """Nobody in Tier 1: the superusers hear of the sign-up, so it is never unseen."""
    _sign_up_and_confirm(client, "sam@elsewhere.example")
    assert [n.to for n in Notification.objects.filter(key__contains=":waiting:staff:")] == [
        admin_user.email
    ]


def test_staff_adding_a_waiting_customer_grants_access_and_emails_them(client, acme, admin_user):
    """Staff add the waiting customer to an organisation: they get its service, leave the
    waiting list and are emailed once; a second service later is not "access granted" again."""
    _sign_up_and_confirm(client, "sam@elsewhere.example")
    from django.contrib.auth import get_user_model

    sam = get_user_model().objects.get(email="sam@elsewhere.example")
    services.organization_add_member(organization=acme, user=sam, by=admin_user)
    assert ServiceCustomer.objects.filter(customer=sam, service=acme.service).exists()
    assert Notification.objects.filter(key=f"accounts:user:{sam.pk}:access_granted").count() == 1
    from tickets.services import customer_add_service

    customer_add_service(customer=sam, service=factories.ServiceFactory())
    assert Notification.objects.filter(key__contains=":access_granted").count() == 1
    client.force_login(admin_user)
    listing = client.get(reverse("admin:accounts_pendingsignup_changelist"))
    assert "sam@elsewhere.example" not in listing.text


def test_the_organisation_admin_edits_domains(client, admin_user, acme):
    """The organisation's change form shows and saves its domains, refusing webmail."""
    client.force_login(admin_user)
    url = reverse("admin:contracts_organization_change", args=[acme.pk])
    page = client.get(url)
    assert "acme.example" in page.text
    form = page.context["adminform"].form
    data = {
        "name": "Acme",
        "domains": "acme.example, NEW.example",
        "colleagues_see_tickets": "on",
        "contract": "",
        "contract_from": form.fields["contract_from"].initial,
    }
    for prefix in ["memberships", "contract_periods", "usage_alerts"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    acme.refresh_from_db()
    assert acme.colleagues_see_tickets
    assert sorted(acme.email_domains.values_list("domain", flat=True)) == [
        "acme.example",
        "new.example",
    ]
    refused = client.post(url, {**data, "domains": "gmail.com"})
    assert refused.status_code == 200 and "public email service" in refused.text
