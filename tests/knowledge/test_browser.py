"""In a real browser: typing a ticket subject lists matching articles under it (the static
script, under the strict CSP), an article opens, and "This solved it" counts once.

``serialized_rollback`` restores the tier groups the migrations wrote (a transactional test's
flush would leave them out), as the other browser journeys do.
"""

import re

import pytest
from playwright.sync_api import expect

from knowledge import services
from knowledge.models import Article
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_subject_suggestions_then_this_solved_it(open_browser):
    service = factories.ServiceFactory(slug="billing", name="Billing platform")
    factories.PriorityFactory(service=service, code="P2", name="Normal")
    other = factories.ServiceFactory(slug="hosting", name="Hosting")
    writer = factories.StaffFactory(tier=1)
    for target, title, body, visibility in [
        (
            service,
            "Reset your password",
            "Choose **Forgot password** on the sign-in page.",
            "customers",
        ),
        (service, "Export invoices", "Invoices export as CSV.", "public"),
        (other, "Password rotation policy", "Hosting's own article.", "customers"),
    ]:
        services.article_create(
            service=target,
            title=title,
            body=body,
            by=writer,
            status="published",
            visibility=visibility,
        )
    customer = factories.CustomerFactory(services=[service])

    person = open_browser()
    page = person.page
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(customer.email)
    page.locator("#id_password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.goto("/tickets/new/")
    suggestions = page.locator(".kb-suggest-results")
    expect(suggestions).to_be_hidden()
    page.locator("#id_subject").press_sequentially("cannot reset passw", delay=20)
    expect(suggestions).to_be_visible()
    items = suggestions.locator("li")
    # Only this customer's service: Hosting's article is not suggested.
    expect(items).to_have_count(1)
    expect(items.first.get_by_role("link")).to_have_text("Reset your password")
    person.screenshot("knowledge-suggestions")

    page.locator("#id_subject").fill("zz")
    expect(suggestions).to_be_hidden()

    page.goto(f"/kb/{service.slug}/reset-your-password/")
    expect(page.locator(".kb-article-body strong")).to_have_text("Forgot password")
    page.get_by_role("button", name="This solved it").click()
    expect(page.locator(".alert-success")).to_contain_text("glad this article solved it")
    expect(page.get_by_role("button", name="This solved it")).to_have_count(0)
    assert Article.objects.get(slug="reset-your-password").solved_count == 1
    assert person.broken_assets == [] and errors == []
