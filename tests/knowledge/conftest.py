"""Articles for the knowledge-base tests: made through the service, as staff make them."""

import pytest

from knowledge import services
from knowledge.models import Article
from tests import factories

Status, Visibility = Article.Status, Article.Visibility


@pytest.fixture
def writer(tier_groups):
    """A Tier 1 member working every service: writes articles."""
    return factories.StaffFactory(tier=1)


@pytest.fixture
def make_article(writer):
    def make(service, title="Reset your password", body="Choose *Forgot password*.", **fields):
        fields.setdefault("status", Status.PUBLISHED)
        fields.setdefault("visibility", Visibility.PUBLIC)
        return services.article_create(service=service, title=title, body=body, by=writer, **fields)

    return make


@pytest.fixture
def other_service(db):
    return factories.ServiceFactory()
