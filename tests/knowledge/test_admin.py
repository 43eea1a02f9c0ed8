"""Staff write, version and restore articles in admin, scoped to their services; a resolved
ticket's answer becomes a draft from the ticket list; no page carries inline code."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge.models import Article, ArticleVersion
from sla.models import StaffService
from tests import factories
from tests.portal.test_csp import STRICT, inline_code, policy

pytestmark = pytest.mark.django_db

ADD = reverse("admin:knowledge_article_add")
CHANGELIST = reverse("admin:knowledge_article_changelist")
TICKETS = reverse("admin:tickets_ticket_changelist")


def change_url(article):
    return reverse("admin:knowledge_article_change", args=[article.pk])


def form(service, **fields):
    data = {
        "service": service.pk,
        "title": "Reset your password",
        "slug": "",
        "body": "Choose **Forgot password**.",
        "status": "draft",
        "visibility": "customers",
        # the read-only versions inline's management form
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    data.pop("service") if fields.get("service") is None and "service" in fields else None
    return data


def test_staff_add_and_edit_an_article_each_save_a_version(client, writer, service):
    client.force_login(writer)
    response = client.post(ADD, form(service))
    assert response.status_code == 302, response.context and response.context["errors"]
    article = Article.objects.get()
    assert (article.slug, article.version, article.created_by) == ("reset-your-password", 1, writer)
    response = client.post(change_url(article), form(service, body="New text", status="published"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.version, article.body, article.status) == (2, "New text", "published")
    page = client.get(change_url(article)).content.decode()
    assert "View or restore" in page and "current" in page
    assert list(ArticleVersion.objects.values_list("number", "body")) == [
        (2, "New text"),
        (1, "Choose **Forgot password**."),
    ]


def test_a_taken_address_is_a_form_error_and_saves_nothing(client, writer, service, make_article):
    make_article(service, title="Backups")
    client.force_login(writer)
    response = client.post(ADD, form(service, title="Other", slug="backups"))
    assert response.status_code == 200
    assert Article.objects.count() == 1 and ArticleVersion.objects.count() == 1


def test_restore_shows_the_version_then_restores_it_as_a_new_one(
    client, writer, service, make_article
):
    from knowledge import services

    article = make_article(service, title="Old", body="Old **text**")
    services.article_update(article=article, by=writer, title="New", body="New text")
    client.force_login(writer)
    url = reverse("admin:knowledge_article_restore", args=[article.pk, 1])
    page = client.get(url)
    assert page.status_code == 200
    assert "<strong>text</strong>" in page.content.decode()
    assert policy(page) == STRICT and inline_code(page) == []
    response = client.post(url)
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.version, article.title, article.body) == (3, "Old", "Old **text**")
    missing = reverse("admin:knowledge_article_restore", args=[article.pk, 99])
    assert client.get(missing).status_code == 404


def test_staff_see_only_their_services_articles(client, service, other_service, make_article):
    mine = make_article(other_service, title="Mine")
    theirs = make_article(service, title="Theirs")
    limited = factories.StaffFactory(tier=2)
    StaffService.objects.create(user=limited, service=other_service)
    client.force_login(limited)
    page = client.get(CHANGELIST).content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert client.get(change_url(theirs)).status_code == 302  # "doesn't exist": to the index
    assert client.get(change_url(mine)).status_code == 200
    url = reverse("admin:knowledge_article_restore", args=[theirs.pk, 1])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    # Only their services are offered for a new article.
    response = client.post(ADD, form(service, title="Sneaky"))
    assert response.status_code == 200 and not Article.objects.filter(title="Sneaky").exists()


def test_tier_permissions_every_tier_writes_only_tier_3_deletes(client, service, make_article):
    article = make_article(service)
    delete = reverse("admin:knowledge_article_delete", args=[article.pk])
    for level, may_delete in [(1, False), (2, False), (3, True)]:
        client.force_login(factories.StaffFactory(tier=level))
        assert client.get(ADD).status_code == 200
        assert (client.get(delete).status_code == 200) is may_delete
    client.force_login(factories.CustomerFactory())
    assert client.get(CHANGELIST).status_code == 302  # to the admin login


def test_the_changelist_costs_the_same_queries_at_3_and_40_articles(
    client, writer, service, make_article
):
    client.force_login(writer)

    def cost():
        client.get(CHANGELIST)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    for n in range(3):
        make_article(service, title=f"Article {n}")
    few = cost()
    for n in range(3, 40):
        make_article(factories.ServiceFactory(), title=f"Article {n}")
    assert cost() == few


def _resolved_ticket(service, staff):
    ticket = factories.TicketFactory(service=service, subject="VPN drops hourly", status="resolved")
    factories.MessageFactory(ticket=ticket, author=staff, body="Update the client to 5.2.")
    return ticket


def test_the_ticket_list_turns_a_resolved_answer_into_a_draft_once(client, writer, service):
    ticket = _resolved_ticket(service, writer)
    client.force_login(writer)
    data = {"action": "make_article_draft", "_selected_action": [ticket.pk]}
    response = client.post(TICKETS, data)
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == change_url(article)
    assert (article.title, article.body, article.status) == (
        "VPN drops hourly",
        "Update the client to 5.2.",
        "draft",
    )
    again = client.post(TICKETS, data)
    assert again["Location"] == change_url(article) and Article.objects.count() == 1
    page = client.get(change_url(article)).content.decode()
    assert ticket.number in page  # the article links back to its ticket


def test_the_action_explains_a_ticket_it_cannot_use(client, writer, service):
    open_ticket = factories.TicketFactory(service=service, status="open")
    client.force_login(writer)
    response = client.post(
        TICKETS,
        {"action": "make_article_draft", "_selected_action": [open_ticket.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("not resolved" in m for m in messages), messages
    assert not Article.objects.exists()


def test_the_action_needs_the_right_to_write_articles(client, writer, service, tier_groups):
    from django.contrib.auth.models import Permission

    ticket = _resolved_ticket(service, writer)
    reader = factories.StaffFactory(tier=1)
    tier_groups[1].permissions.remove(Permission.objects.get(codename="add_article"))
    client.force_login(reader)
    response = client.post(
        TICKETS, {"action": "make_article_draft", "_selected_action": [ticket.pk]}, follow=True
    )
    assert any("may not write" in str(m) for m in response.context["messages"])
    assert not Article.objects.exists()


def test_tickets_never_import_knowledge():
    """Knowledge sits above tickets: the ticket action is added from knowledge.admin."""
    import ast

    root = Path(__file__).resolve().parents[2] / "tickets"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path}: {name}" for name in names if name.split(".")[0] == "knowledge"]
    assert offenders == []


def test_knowledge_pages_carry_no_inline_code(
    client, writer, customer, service, priority, make_article
):
    article = make_article(service)

    def check(url):
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy(response) == STRICT, url
        assert inline_code(response) == [], url

    client.force_login(customer)
    for url in [f"/kb/{service.slug}/?q=password", article.get_absolute_url(), "/tickets/new/"]:
        check(url)
    client.force_login(writer)
    for url in [f"/kb/{service.slug}/", ADD, CHANGELIST, change_url(article)]:
        check(url)


def test_a_refused_save_says_why_and_saves_nothing(client, service, make_article):
    """Staff given the permission by hand but in no tier write nothing (the service refuses)."""
    from django.contrib.auth.models import Permission

    article = make_article(service)
    outsider = factories.StaffFactory()
    outsider.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_article", "change_article", "view_article"])
    )
    client.force_login(outsider)
    response = client.post(ADD, form(service, title="Sneaky"), follow=True)
    assert any("Not saved" in str(m) for m in response.context["messages"])
    response = client.post(change_url(article), form(service, body="Changed"), follow=True)
    assert any("Not saved" in str(m) for m in response.context["messages"])
    article.refresh_from_db()
    assert article.body != "Changed" and Article.objects.count() == 1
