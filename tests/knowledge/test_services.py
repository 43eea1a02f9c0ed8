"""Articles are versioned on every change, restored as new versions, written by tier staff of
the service only; resolved tickets become drafts once; "this solved it" counts once a reader."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from knowledge import services
from knowledge.models import Article, ArticleSolved, ArticleVersion
from sla.models import StaffService
from tests import factories

pytestmark = pytest.mark.django_db
Status, Visibility = Article.Status, Article.Visibility


def test_creating_an_article_records_version_one(service, writer):
    article = services.article_create(service=service, title="  VPN setup ", body="Text", by=writer)
    assert (article.title, article.slug, article.version, article.status) == (
        "VPN setup",
        "vpn-setup",
        1,
        Status.DRAFT,
    )
    (version,) = ArticleVersion.objects.filter(article=article)
    assert (version.number, version.title, version.body, version.created_by) == (
        1,
        "VPN setup",
        "Text",
        writer,
    )


def test_each_saved_change_adds_a_version_and_a_save_without_change_adds_none(
    service, writer, make_article
):
    article = make_article(service, status=Status.DRAFT)
    article = services.article_update(article=article, by=writer, body="Second text")
    article = services.article_update(article=article, by=writer, status=Status.PUBLISHED)
    assert article.published_at is not None
    same = services.article_update(article=article, by=writer, body="Second text")
    assert same.version == 3
    assert list(article.versions.values_list("number", "body", "status")) == [
        (3, "Second text", Status.PUBLISHED),
        (2, "Second text", Status.DRAFT),
        (1, "Choose *Forgot password*.", Status.DRAFT),
    ]


def test_restore_brings_back_title_and_text_as_a_new_version_keeping_who_reads_it(
    service, writer, make_article
):
    article = make_article(service, title="Old title", body="Old body", visibility="public")
    services.article_update(
        article=article, by=writer, title="New", body="New body", visibility="customers"
    )
    restored = services.article_restore(article=article, number=1, by=writer)
    assert (restored.version, restored.title, restored.body) == (3, "Old title", "Old body")
    assert restored.visibility == Visibility.CUSTOMERS  # a restore never widens
    assert restored.versions.get(number=3).note == "Restored version 1"
    with pytest.raises(ValidationError):
        services.article_restore(article=article, number=9, by=writer)


def test_slugs_are_unique_per_service(service, other_service, make_article):
    first = make_article(service, title="Backups")
    second = make_article(service, title="Backups")
    elsewhere = make_article(other_service, title="Backups")
    assert (first.slug, second.slug, elsewhere.slug) == ("backups", "backups-2", "backups")
    with pytest.raises(ValidationError) as error:
        make_article(service, title="Other", slug="backups")
    assert "slug" in error.value.message_dict


def test_bad_input_changes_nothing(service, writer, make_article):
    article = make_article(service)
    with pytest.raises(ValidationError):
        services.article_update(article=article, by=writer, title=" ", body="x")
    with pytest.raises(ValidationError):
        services.article_create(service=service, title="T", body="  ", by=writer)
    article.refresh_from_db()
    assert article.version == 1 and Article.objects.count() == 1


def test_only_tier_staff_of_the_service_write_articles(service, other_service, customer, writer):
    with pytest.raises(PermissionDenied):
        services.article_create(service=service, title="T", body="B", by=customer)
    limited = factories.StaffFactory(tier=2)
    StaffService.objects.create(user=limited, service=other_service)
    with pytest.raises(PermissionDenied):
        services.article_create(service=service, title="T", body="B", by=limited)
    article = services.article_create(service=service, title="T", body="B", by=writer)
    with pytest.raises(PermissionDenied):
        services.article_update(article=article, by=limited, body="changed")
    assert Article.objects.get().body == "B"


def _answered_ticket(service, writer, *, status="resolved"):
    ticket = factories.TicketFactory(service=service, subject="Cannot sign in", status=status)
    factories.MessageFactory(ticket=ticket, author=ticket.customer, body="It says denied.")
    factories.MessageFactory(ticket=ticket, author=writer, body="Clear cookies.", internal=False)
    factories.MessageFactory(ticket=ticket, author=writer, body="Typo", internal=True)
    return ticket


def test_a_resolved_ticket_becomes_a_draft_from_subject_and_staff_reply_once(service, writer):
    ticket = _answered_ticket(service, writer)
    article, created = services.article_from_ticket(ticket=ticket, by=writer)
    assert created
    assert (article.title, article.body, article.status, article.visibility) == (
        "Cannot sign in",
        "Clear cookies.",
        Status.DRAFT,
        Visibility.CUSTOMERS,
    )
    assert article.source_ticket == ticket
    again, created = services.article_from_ticket(ticket=ticket, by=writer)
    assert (again, created) == (article, False)
    assert Article.objects.count() == 1


def test_an_open_or_unanswered_ticket_gives_no_draft(service, writer):
    with pytest.raises(ValidationError, match="not resolved"):
        services.article_from_ticket(
            ticket=_answered_ticket(service, writer, status="open"), by=writer
        )
    silent = factories.TicketFactory(service=service, status="closed")
    with pytest.raises(ValidationError, match="no public staff reply"):
        services.article_from_ticket(ticket=silent, by=writer)
    assert not Article.objects.exists()


def test_solved_counts_once_per_user_and_once_per_session(service, customer, make_article):
    article = make_article(service)
    assert services.article_mark_solved(article=article, user=customer)
    assert not services.article_mark_solved(article=article, user=customer)
    assert services.article_mark_solved(article=article, session_key="abc")
    assert not services.article_mark_solved(article=article, session_key="abc")
    assert services.article_mark_solved(article=article, session_key="def")
    article.refresh_from_db()
    assert article.solved_count == 3 == ArticleSolved.objects.count()
    with pytest.raises(ValidationError):
        services.article_mark_solved(article=article)


def test_a_new_address_alone_adds_no_version_and_an_unchanged_save_writes_nothing(
    service, writer, make_article
):
    article = make_article(service)
    moved = services.article_update(article=article, by=writer, slug="new-address")
    assert (moved.slug, moved.version) == ("new-address", 1)
    before = Article.objects.values_list("updated_at", flat=True).get()
    same = services.article_update(article=moved, by=writer, title=moved.title, body=moved.body)
    assert same.version == 1
    assert Article.objects.values_list("updated_at", flat=True).get() == before
    assert ArticleVersion.objects.count() == 1
