"""The knowledge-base pages, suggestions and "this solved it": what each shows, whom it counts,
and query counts that do not grow with the number of articles."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from knowledge.models import Article, ArticleSolved
from tests import factories

pytestmark = pytest.mark.django_db


def _queries(client, url):
    client.get(url)  # the session, the banner's cache and such are read once, then kept
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["", "?q=password", "?q=password&page=2"])
def test_list_and_search_cost_the_same_queries_at_3_and_40_articles(
    client, customer, service, make_article, query
):
    client.force_login(customer)
    url = f"/kb/{service.slug}/{query}"
    for n in range(3):
        make_article(service, title=f"Password {n}", visibility="customers")
    few = _queries(client, url)
    for n in range(3, 40):
        make_article(service, title=f"Password {n}", body="About passwords " * 20)
    assert _queries(client, url) == few


def test_suggestions_cost_the_same_queries_at_3_and_40_articles(
    client, customer, service, make_article
):
    client.force_login(customer)
    url = "/kb/suggest.json?q=password"
    for n in range(3):
        make_article(service, title=f"Password {n}")
    few = _queries(client, url)
    for n in range(3, 40):
        make_article(service, title=f"Password {n}")
    assert _queries(client, url) == few


def test_the_list_searches_and_links_each_article(client, service, make_article):
    make_article(service, title="Reset your password", body="Use **Forgot password**.")
    make_article(service, title="Backups", body="Nightly.")
    page = client.get(f"/kb/{service.slug}/?q=password").content.decode()
    assert f'href="/kb/{service.slug}/reset-your-password/"' in page
    assert "Use Forgot password." in page  # the excerpt is text, not Markdown
    assert "Backups" not in page
    empty = client.get(f"/kb/{service.slug}/?q=zebra").content.decode()
    assert "No article matches" in empty


def test_the_article_page_renders_markdown_safely(client, service, make_article):
    article = make_article(service, body="**Bold** <script>alert(1)</script>")
    page = client.get(article.get_absolute_url())
    html = page.content.decode()
    assert "<strong>Bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert page["Cache-Control"] == "private" and "Cookie" in page["Vary"]


def test_support_page_and_ticket_form_link_the_knowledge_base(client, customer, service, priority):
    support = client.get(f"/support/{service.slug}/").content.decode()
    assert f'href="/kb/{service.slug}/"' in support
    client.force_login(customer)
    form = client.get("/tickets/new/").content.decode()
    assert 'id="kb-suggest"' in form and 'data-suggest-url="/kb/suggest.json"' in form
    assert f'href="/kb/{service.slug}/"' in form  # the no-JavaScript path
    assert "/static/js/knowledge-suggest.js" in form or "knowledge-suggest." in form


def test_suggestions_answer_json_of_the_customers_services_only(
    client, customer, service, other_service, make_article
):
    make_article(service, title="Reset your password", visibility="customers")
    make_article(other_service, title="Password policy", visibility="public")
    assert client.get("/kb/suggest.json?q=password").json() == {"articles": []}  # signed out
    client.force_login(customer)
    response = client.get("/kb/suggest.json?q=passw")
    assert response["Cache-Control"] == "private, no-store"
    assert response.json() == {
        "articles": [
            {
                "title": "Reset your password",
                "service": service.name,
                "url": f"/kb/{service.slug}/reset-your-password/",
                "excerpt": "Choose Forgot password.",
            }
        ]
    }
    assert client.get("/kb/suggest.json?q=pa").json() == {"articles": []}  # too short
    other = client.get(f"/kb/suggest.json?q=password&service={other_service.pk}")
    assert other.json() == {"articles": []}
    assert client.get("/kb/suggest.json?q=password&service=1e9").status_code == 200


def test_solved_is_a_csrf_protected_post_counted_once_per_user(customer, service, make_article):
    article = make_article(service)
    url = f"{article.get_absolute_url()}solved/"
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    page = client.get(article.get_absolute_url())
    token = page.context["csrf_token"]
    assert client.post(url, {"csrfmiddlewaretoken": str(token)}).status_code == 302
    again = client.post(url, {"csrfmiddlewaretoken": str(token)}, follow=True)
    assert b"You told us already" in again.content
    article.refresh_from_db()
    assert article.solved_count == 1
    assert ArticleSolved.objects.get().user == customer


def test_a_visitor_counts_once_per_session(service, make_article):
    article = make_article(service)
    url = f"{article.get_absolute_url()}solved/"
    first, second = Client(), Client()
    first.post(url)
    first.post(url)
    second.post(url)
    article.refresh_from_db()
    assert article.solved_count == 2
    assert b"You told us this article solved it" in first.get(article.get_absolute_url()).content


def test_solved_is_refused_outside_scope_and_not_counted_on_drafts(
    client, customer, writer, service, other_service, make_article
):
    hidden = make_article(other_service, visibility="customers")
    client.force_login(customer)
    assert client.post(f"{hidden.get_absolute_url()}solved/").status_code == 404
    draft = make_article(service, title="Draft", status="draft")
    client.force_login(writer)
    assert client.post(f"{draft.get_absolute_url()}solved/").status_code == 302
    assert not ArticleSolved.objects.exists()
    assert Article.objects.filter(solved_count__gt=0).count() == 0


def test_seed_demo_knowledge_adds_articles_once(settings, tier_groups):
    import io
    from pathlib import Path

    from django.core.management import call_command

    settings.DEBUG = True
    plans = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "plans").glob("*.yaml"))
    out = io.StringIO()
    call_command("load_plan", *plans, stdout=out)
    call_command("seed_demo", stdout=out)
    call_command("seed_demo_knowledge", stdout=out)
    count = Article.objects.count()
    assert count == 2 * len(plans) and not Article.objects.filter(status="draft").exists()
    call_command("seed_demo_knowledge", stdout=out)
    assert Article.objects.count() == count
    assert factories.ServiceFactory._meta.model.objects.count() == len(plans)


@pytest.mark.postgres
def test_the_list_reads_its_index_in_order_without_sorting(customer, service, other_service):
    """A page of the list is the listing index read in order (newest change first), so its
    cost does not grow with the service's articles."""
    from datetime import timedelta

    from django.utils import timezone

    from knowledge.selectors import article_list

    now = timezone.now()
    Article.objects.bulk_create(
        Article(
            service=service if n % 3 else other_service,
            slug=f"article-{n}",
            title=f"Article {n}",
            body="Text.",
            status="draft" if n % 7 == 0 else "published",
            visibility="customers" if n % 2 else "public",
            updated_at=now - timedelta(minutes=n),
        )
        for n in range(3000)
    )
    rows = article_list(user=customer, service=service)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_article")
        sql, params = rows[:20].query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        page_plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "article_service_listing" in page_plan and "Sort" not in page_plan, page_plan
