"""Every HTML page is sent with a strict Content-Security-Policy, and the pages need nothing it
refuses.

The policy (django-csp, ``CONTENT_SECURITY_POLICY``) allows scripts, styles and images from this
site only: an injected ``<script>``, event-handler attribute or style would not run. The pages
keep working under it because they carry no inline script, handler or style themselves:
behaviour lives in ``static/js``, styles in ``static/css``.
"""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests import factories
from tests.contracts.factories import ContractPeriodFactory, OrganizationMemberFactory

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def policy(response):
    """The response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class InlineCode(HTMLParser):
    """Collects what the policy refuses: inline <script>, <style>, on* and style attributes."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> block at line {self.getpos()[0]}")
        for name in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=…> at line {self.getpos()[0]}")


def inline_code(response):
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser.found


@pytest.fixture
def customer_with_contract(service, customer):
    """A customer whose organisation holds a contract: the dashboard draws the hours bar."""
    period = ContractPeriodFactory(organization__service=service)
    OrganizationMemberFactory(organization=period.organization, user=customer)
    return customer


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def test_customer_pages_are_sent_with_the_strict_policy(client, customer_with_contract, ticket):
    """The dashboard, ticket list, a ticket and the new-ticket form: the strict policy."""
    client.force_login(customer_with_contract)
    for url in ["/", "/tickets/", ticket.get_absolute_url(), "/tickets/new/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response) == STRICT, url


def test_admin_pages_are_sent_with_the_strict_policy(client, tier1_staff, ticket):
    """The admin index, the ticket list and a ticket's page: the same policy."""
    client.force_login(tier1_staff)
    urls = [
        reverse("admin:index"),
        reverse("admin:tickets_ticket_changelist"),
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response) == STRICT, url


def test_the_public_status_page_and_the_login_page_are_sent_with_the_strict_policy(client):
    """Pages anyone can open, and the error pages too."""
    for url, status in [("/status/", 200), ("/accounts/login/", 200), ("/no-such-page/", 404)]:
        response = client.get(url)
        assert response.status_code == status, url
        assert policy(response) == STRICT, url


def test_the_policy_allows_no_inline_code_or_outside_source(client):
    """No 'unsafe-inline', 'unsafe-eval', wildcard or other host in any directive."""
    for sources in policy(client.get("/status/")).values():
        assert set(sources) <= {"'self'", "'none'", "data:"}


def test_pages_carry_no_inline_script_handler_or_style(
    client, customer_with_contract, ticket, superuser, service
):
    """What the policy refuses is nowhere on our own pages, so they work under it: customer
    pages (with the hours bar), the maintenance calendar (its service picker), the status
    page, and the staff pages with their own templates (ticket page, uptime and usage
    reports, incident add page)."""
    client.force_login(customer_with_contract)
    customer_urls = [
        "/",
        "/tickets/",
        ticket.get_absolute_url(),
        "/tickets/new/",
        "/maintenance/",
        "/status/",
    ]
    pages = {url: client.get(url) for url in customer_urls}
    assert 'role="progressbar"' in pages["/"].content.decode()  # the hours bar is drawn
    client.force_login(superuser)
    staff_urls = [
        reverse("admin:index"),
        reverse("admin:tickets_ticket_changelist"),
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        reverse("admin:uptime_uptimereport_changelist"),
        reverse("admin:contracts_organization_usage"),
        reverse("admin:incidents_incident_add"),
    ]
    pages.update({url: client.get(url) for url in staff_urls})
    for url, response in pages.items():
        assert response.status_code == 200, url
        assert inline_code(response) == [], url
