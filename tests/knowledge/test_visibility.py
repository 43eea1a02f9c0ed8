"""Nobody reads an article outside their scope: customers-only articles are for the service's
signed-in customers, drafts for its staff; anything else answers 404, like another's ticket."""

import pytest

from knowledge.models import Article
from knowledge.selectors import articles_visible_to
from sla.models import StaffService
from tests import factories

pytestmark = pytest.mark.django_db
Status, Visibility = Article.Status, Article.Visibility


@pytest.fixture
def articles(service, other_service, make_article):
    return {
        "public": make_article(service, title="Public one"),
        "customers": make_article(service, title="For customers", visibility="customers"),
        "draft": make_article(service, title="Draft one", status="draft", visibility="public"),
        "other_customers": make_article(
            other_service, title="Other service's customers", visibility="customers"
        ),
        "other_public": make_article(other_service, title="Other service's public"),
    }


def _titles(user):
    return set(articles_visible_to(user=user).values_list("title", flat=True))


def test_a_visitor_reads_published_public_articles_only(client, articles):
    from django.contrib.auth.models import AnonymousUser

    assert _titles(AnonymousUser()) == {"Public one", "Other service's public"}


def test_a_customer_reads_their_services_customers_only_articles_not_anothers(customer, articles):
    assert _titles(customer) == {"Public one", "For customers", "Other service's public"}


def test_staff_read_every_article_of_the_services_they_work(articles, writer, other_service):
    assert _titles(writer) == {article.title for article in articles.values()}
    limited = factories.StaffFactory(tier=1)
    StaffService.objects.create(user=limited, service=other_service)
    assert _titles(limited) == {"Public one", "Other service's customers", "Other service's public"}
    no_tier = factories.StaffFactory()  # staff flag, but no tier: a visitor here
    assert _titles(no_tier) == {"Public one", "Other service's public"}


def test_pages_answer_404_outside_scope(client, customer, service, other_service, articles):
    def status(article):
        return client.get(article.get_absolute_url()).status_code

    assert status(articles["public"]) == 200
    assert status(articles["customers"]) == 404  # signed out
    client.force_login(customer)
    assert status(articles["customers"]) == 200
    assert status(articles["draft"]) == 404
    assert status(articles["other_customers"]) == 404
    assert status(articles["other_public"]) == 200
    page = client.get(f"/kb/{other_service.slug}/").content.decode()
    assert "Other service&#x27;s public" in page and "customers" not in page.split("<main")[1]
    assert client.get("/kb/no-such-service/").status_code == 404


def test_staff_preview_a_draft_marked_as_such(client, writer, articles):
    client.force_login(writer)
    page = client.get(articles["draft"].get_absolute_url())
    assert page.status_code == 200
    assert b"Draft: customers cannot see this article" in page.content
