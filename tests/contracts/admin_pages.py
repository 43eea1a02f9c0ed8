"""The contracts admin pages as a test drives them: their URLs, what a page would post back,
and what a page costs in queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.admin.ticket_time import TimeEntryLogFormSet
from contracts.models import OrganizationMember

ORGS = reverse("admin:contracts_organization_changelist")
ORG_ADD = reverse("admin:contracts_organization_add")
REPORT = reverse("admin:contracts_organization_usage")
ENTRIES = reverse("admin:contracts_timeentry_changelist")


def org_url(org):
    return reverse("admin:contracts_organization_change", args=[org.pk])


def ticket_url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def entry_url(entry):
    return reverse("admin:contracts_timeentry_change", args=[entry.pk])


def queries(client, url):
    client.get(url)  # warm caches that have nothing to do with the rows
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response


def page_post_data(response):
    """What the change page would post back unchanged: the main form and every inline's
    management form and hidden fields."""
    data = {}
    form = response.context["adminform"].form
    for field in form:
        if field.field.disabled:
            continue
        value = field.value()
        if value is None or value is False:
            continue
        data[field.html_name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for subform in formset.initial_forms:
            for field in subform.hidden_fields():
                data[field.html_name] = field.value() or ""
    return data


def log_prefix(response):
    for inline in response.context["inline_admin_formsets"]:
        if isinstance(inline.formset, TimeEntryLogFormSet):
            return inline.formset.prefix
    raise AssertionError("no log-time row on the page")


def member_prefix(response):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is OrganizationMember:
            return inline.formset.prefix
    raise AssertionError("no members on the page")
